// Last value: keeps the content of the last message it received in the built-in state tool, so it survives
// restarts and upgrades. The example of docs/agents.md ("Host services"), built and tested as it is shown.
// Deploy with the grant it needs: `caxton agent deploy last-value.wasm --tool state/store`.
import {
  Json, Message, Performative, callToolWith, dispatch, isToolResult, logInfo, logWarn, toolCallId,
} from "../../../sdk/assemblyscript";
export { agent_alloc } from "../../../sdk/assemblyscript";

export function handle_message(ptr: i32, len: i32): i32 {
  return dispatch(ptr, len, onMessage);
}

let pending: i32 = 0;
function onMessage(msg: Message): void {
  if (isToolResult(msg)) {
    if (toolCallId(msg) != pending) return;
    if (msg.performative == Performative.INFORM) {
      logInfo("stored: " + msg.content.toString()); // the MCP CallToolResult
    } else {
      logWarn("store failed: " + msg.content.get("error").get("code").asString()); // TIMEOUT, TOOL_ERROR, ...
    }
    return;
  }
  const id = callToolWith("state", "store", Json.obj().setString("key", "last").set("value", msg.content));
  if (id < 1) logWarn("call_tool refused: " + id.toString()); // -4: not granted
  else pending = id;
}
