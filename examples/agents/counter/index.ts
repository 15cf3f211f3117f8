// Counter: keeps a count in memory (it restarts at 0 with the instance; durable state belongs in a tool).
//   request {"op":"add","n":N} → inform {"count": total}     request {"op":"get"} → inform {"count": total}
import { Json, Message, Performative, dispatch, errorContent, reply } from "../../../sdk/assemblyscript";
export { agent_alloc } from "../../../sdk/assemblyscript";

let count: i64 = 0;

export function handle_message(ptr: i32, len: i32): i32 {
  return dispatch(ptr, len, onMessage);
}

function onMessage(msg: Message): void {
  if (msg.performative != Performative.REQUEST) {
    if (msg.expectsReply()) reply(msg, Performative.NOT_UNDERSTOOD, errorContent("UNSUPPORTED", "send a request"));
    return;
  }
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
}
