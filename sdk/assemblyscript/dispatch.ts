// Turns the raw ABI calls into calls of the agent's handler, and collects garbage between invocations.
//
// The SDK builds with AssemblyScript's minimal runtime: a mark & sweep collector that only runs when asked, and
// is safe to ask only when no managed object lives in a local alone. That is exactly the moment after a
// handler returns, so dispatch() collects there (every `gcInterval` invocations).
import { releaseInbox } from "./alloc";
import { LogLevel, log } from "./agent";
import { Message } from "./message";

/** handle_message's result for the message in progress: 0 = handled. */
let status: i32 = 0;
let gcInterval: i32 = 1;
let invocationsSinceGc: i32 = 0;

/**
 * Marks the message being handled as failed: handle_message returns `code` (non-zero), and the host answers
 * `failure` to the sender when the message expected a reply.
 */
export function fail(code: i32 = 1): void {
  status = code == 0 ? 1 : code;
}

/**
 * Collect garbage every `n` invocations (default 1). Raise it for an agent that keeps a large state and
 * handles many small messages: each collection visits every live object.
 */
export function setGcInterval(n: i32): void {
  gcInterval = n < 1 ? 1 : n;
}

function afterInvocation(): void {
  if (++invocationsSinceGc >= gcInterval) {
    invocationsSinceGc = 0;
    __collect();
  }
}

/**
 * The body of an agent's `handle_message` export: parses the message at ptr/len, calls `handler` and returns
 * the ABI result (0, the code given to fail(), or -1 when the bytes are not a message).
 */
export function dispatch(ptr: i32, len: i32, handler: (msg: Message) => void): i32 {
  const msg = Message.fromBytes(<usize>ptr, len);
  releaseInbox();
  if (msg == null) {
    log(LogLevel.ERROR, "handle_message: the message is not valid JSON with a performative");
    afterInvocation();
    return -1;
  }
  status = 0;
  handler(msg);
  const result = status;
  status = 0;
  afterInvocation();
  return result;
}

/** The body of an agent's `handle_timer` export: calls `handler` and collects garbage afterwards. */
export function dispatchTimer(timerId: i32, handler: (timerId: i32) => void): void {
  handler(timerId);
  afterInvocation();
}
