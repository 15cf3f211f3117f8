// Tool relay: makes the MCP tool call a request asks for, and answers the requester with its outcome. A way
// to try the tools granted to an agent by hand (`caxton message send`), and what the tool tests deploy.
//
//   request {"server": S, "tool": T, "arguments": {...}}
//     → inform {"outcome": "inform", "result": <the CallToolResult>}          the tool answered
//     → inform {"outcome": "failure", "result": {"error": {"code", "message"}}}  the call failed (TIMEOUT, ...)
//     → inform {"outcome": "refused", "code": N}   call_tool itself refused it (-4: not granted; -3: too many)
// Each answer is a reply to the request (same conversation, in_reply_to its reply_with or message_id).
import {
  Json, Message, Performative, callToolWith, dispatch, errorContent, isToolResult, reply, toolCallId,
} from "../../../sdk/assemblyscript";
export { agent_alloc } from "../../../sdk/assemblyscript";

/** The request each call in flight answers; the host bounds calls in flight per agent (100). */
const pending = new Map<i32, Message>();

export function handle_message(ptr: i32, len: i32): i32 {
  return dispatch(ptr, len, onMessage);
}

function onMessage(msg: Message): void {
  if (isToolResult(msg)) {
    const id = toolCallId(msg);
    if (!pending.has(id)) return;
    const request = pending.get(id);
    pending.delete(id);
    reply(request, Performative.INFORM, Json.obj().setString("outcome", msg.performative).set("result", msg.content));
    return;
  }
  if (msg.performative != Performative.REQUEST) {
    if (msg.expectsReply()) reply(msg, Performative.NOT_UNDERSTOOD, errorContent("UNSUPPORTED", "send a request"));
    return;
  }
  const server = msg.content.get("server");
  const tool = msg.content.get("tool");
  if (!server.isString() || !tool.isString()) {
    reply(msg, Performative.REFUSE, errorContent("INVALID_ARGUMENT", "expected {server, tool, arguments}"));
    return;
  }
  const args = msg.content.has("arguments") ? msg.content.get("arguments") : Json.obj();
  const id = callToolWith(server.asString(), tool.asString(), args);
  if (id < 1) {
    reply(msg, Performative.INFORM, Json.obj().setString("outcome", "refused").setInt("code", id));
    return;
  }
  pending.set(id, msg);
}
