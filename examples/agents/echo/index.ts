// Echo: answers request, query-if and query-ref with an inform carrying the same content. Other performatives
// that wait for an answer (cfp, subscribe) get not-understood; the rest are ignored.
import { Message, Performative, dispatch, errorContent, reply } from "../../../sdk/assemblyscript";
export { agent_alloc } from "../../../sdk/assemblyscript";

export function handle_message(ptr: i32, len: i32): i32 {
  return dispatch(ptr, len, onMessage);
}

function onMessage(msg: Message): void {
  const p = msg.performative;
  if (p == Performative.REQUEST || p == Performative.QUERY_IF || p == Performative.QUERY_REF) {
    reply(msg, Performative.INFORM, msg.hasContent ? msg.content : null);
  } else if (msg.expectsReply()) {
    reply(msg, Performative.NOT_UNDERSTOOD, errorContent("UNSUPPORTED", "echo answers request and query only"));
  }
}
