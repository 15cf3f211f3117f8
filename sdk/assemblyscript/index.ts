// Caxton agent SDK for AssemblyScript. An agent imports what it needs from here and exports the ABI:
//
//   import { Message, dispatch, reply } from "../../../sdk/assemblyscript";
//   export { agent_alloc } from "../../../sdk/assemblyscript";
//   export function handle_message(ptr: i32, len: i32): i32 { return dispatch(ptr, len, onMessage); }
//
// Build with asconfig.json beside this file (`npx asc agent.ts --config sdk/assemblyscript/asconfig.json`).
import "./runtime-hooks";

export { agent_alloc } from "./alloc";
export { dispatch, dispatchTimer, fail, setGcInterval } from "./dispatch";
export { Message, Performative } from "./message";
export {
  LogLevel, send, reply, replyTo, log, logInfo, logWarn, logError, now, nowMillis, randomBytes,
  setTimer, cancelTimer, agentName, callTool, callToolWith, isToolResult, toolCallId, errorContent,
} from "./agent";
export { Json } from "./json/json";
export { JsonKind, JsonValue } from "./json/value";
export { ByteWriter } from "./json/byte-writer";
export { AbiError } from "./host";
