// Scripted: sends what the message it receives tells it to, as itself. A tool for trying protocols by hand
// (`caxton message send`) and for tests that need an agent to misbehave on cue.
//
//   {"send": [M, ...]} (or one M) in the content of any message → each M is sent in order, where M is a
//   message as messages.md writes it, minus what the host sets. Fields M leaves out are taken from the
//   message that carried it, so a script is a reply unless it says otherwise: receiver = its sender,
//   conversation_id and protocol = its own, in_reply_to = its reply_with or message_id.
//   A carrier outside any protocol that expects an answer gets inform {"sent": [result code of each send]};
//   inside a protocol the script is the whole answer.
// Messages without a "send" (e.g. the informs of a subscription it started) are ignored.
import {
  Json, JsonValue, Message, Performative, dispatch, errorContent, reply, send,
} from "../../../sdk/assemblyscript";
export { agent_alloc } from "../../../sdk/assemblyscript";

export function handle_message(ptr: i32, len: i32): i32 {
  return dispatch(ptr, len, onMessage);
}

/** One scripted message, its gaps filled from the carrier; null when it is not a message. */
function scripted(spec: JsonValue, carrier: Message): Message | null {
  const msg = Message.fromJson(spec);
  if (msg == null) return null;
  if (msg.receivers.length == 0 || (msg.receivers.length == 1 && msg.receivers[0].length == 0)) {
    msg.receivers = [carrier.sender];
  }
  if (!spec.has("conversation_id")) msg.conversationId = carrier.conversationId;
  if (!spec.has("protocol")) msg.protocol = carrier.protocol;
  if (!spec.has("in_reply_to")) msg.inReplyTo = carrier.replyWith.length > 0 ? carrier.replyWith : carrier.messageId;
  return msg;
}

function onMessage(msg: Message): void {
  if (!msg.content.has("send")) return;
  let script = msg.content.get("send");
  if (!script.isArray()) script = Json.arr().push(script);
  const results = Json.arr();
  for (let i = 0, n = script.length; i < n; i++) {
    const out = scripted(script.at(i), msg);
    if (out == null) {
      reply(msg, Performative.NOT_UNDERSTOOD, errorContent("INVALID_ARGUMENT", "send[" + i.toString() + "]: not a message"));
      return;
    }
    results.push(Json.int(send(out)));
  }
  if (msg.protocol.length == 0 && msg.expectsReply()) reply(msg, Performative.INFORM, Json.obj().set("sent", results));
}
