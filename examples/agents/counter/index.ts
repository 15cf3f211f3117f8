// Counter: keeps a count in memory (it restarts at 0 with the instance; durable state belongs in a tool).
//   request {"op":"add","n":N} → inform {"count": total}     request {"op":"get"} → inform {"count": total}
// It also publishes the count (fipa-subscribe): subscribe → agree {"count"}, then an inform {"count"} in the
// subscription's conversation after every add, until the subscriber sends cancel.
import { Json, Message, Performative, dispatch, errorContent, reply } from "../../../sdk/assemblyscript";
export { agent_alloc } from "../../../sdk/assemblyscript";

/** Subscribers held at once: each add informs all of them, so the bound caps one add's fan-out. */
const MAX_SUBSCRIPTIONS = 100;

let count: i64 = 0;
/** The subscribe messages still in force; each inform answers its own. */
const subscriptions = new Array<Message>();

export function handle_message(ptr: i32, len: i32): i32 {
  return dispatch(ptr, len, onMessage);
}

function onMessage(msg: Message): void {
  const p = msg.performative;
  if (p == Performative.SUBSCRIBE) {
    subscribe(msg);
  } else if (p == Performative.CANCEL) {
    unsubscribe(msg);
  } else if (p != Performative.REQUEST) {
    if (msg.expectsReply()) reply(msg, Performative.NOT_UNDERSTOOD, errorContent("UNSUPPORTED", "send a request"));
  } else {
    onRequest(msg);
  }
}

function onRequest(msg: Message): void {
  const op = msg.content.get("op").asString();
  if (op == "add") {
    const n = msg.content.get("n");
    if (!n.isNumber()) {
      reply(msg, Performative.REFUSE, errorContent("INVALID_ARGUMENT", "add needs a number n"));
      return;
    }
    count += n.asInt();
  } else if (op != "get") {
    reply(msg, Performative.NOT_UNDERSTOOD, errorContent("UNKNOWN_OP", "op is add or get"));
    return;
  }
  reply(msg, Performative.INFORM, Json.obj().set("count", Json.int(count)));
  if (op == "add") publish();
}

function subscribe(msg: Message): void {
  if (subscriptions.length >= MAX_SUBSCRIPTIONS) {
    reply(msg, Performative.REFUSE, errorContent("TOO_MANY_SUBSCRIBERS", "at most " + MAX_SUBSCRIPTIONS.toString()));
    return;
  }
  subscriptions.push(msg);
  reply(msg, Performative.AGREE, Json.obj().set("count", Json.int(count)));
}

function unsubscribe(msg: Message): void {
  for (let i = subscriptions.length - 1; i >= 0; i--) {
    const sub = subscriptions[i];
    if (sub.conversationId == msg.conversationId && sub.sender == msg.sender) subscriptions.splice(i, 1);
  }
}

function publish(): void {
  for (let i = 0; i < subscriptions.length; i++) {
    reply(subscriptions[i], Performative.INFORM, Json.obj().set("count", Json.int(count)));
  }
}
