// What an agent can ask of its host: send, reply, log, time, randomness, timers, its name and tool calls.
// Thin, typed wrappers over host.ts; each returns the host's result code where it has one.
import * as host from "./host";
import { ByteWriter } from "./json/byte-writer";
import { writeJson } from "./json/stringify";
import { JsonValue } from "./json/value";
import { Json } from "./json/json";
import { Message } from "./message";

/** Outgoing messages are serialized here; kept between sends, shrunk after a large one. */
const outbox = new ByteWriter();

export namespace LogLevel {
  export const TRACE: i32 = 0;
  export const DEBUG: i32 = 1;
  export const INFO: i32 = 2;
  export const WARN: i32 = 3;
  export const ERROR: i32 = 4;
}

/** Sends `msg`. 0 = accepted, negative = AbiError code (e.g. -1 invalid message, -3 quota). */
export function send(msg: Message): i32 {
  outbox.reset();
  msg.writeTo(outbox);
  return host.send_message(outbox.ptr, outbox.len);
}

/**
 * A reply to `msg`, not yet sent: receiver = msg.sender, same conversation_id and protocol,
 * in_reply_to = msg.reply_with when present, else msg.message_id.
 */
export function replyTo(msg: Message, performative: string): Message {
  const answer = new Message(performative).to(msg.sender);
  answer.conversationId = msg.conversationId;
  answer.inReplyTo = msg.replyWith.length > 0 ? msg.replyWith : msg.messageId;
  answer.protocol = msg.protocol;
  return answer;
}

/** Sends a reply to `msg` (see replyTo) with `content` when given. Returns send()'s code. */
export function reply(msg: Message, performative: string, content: JsonValue | null = null): i32 {
  const answer = replyTo(msg, performative);
  if (content != null) answer.withContent(content);
  return send(answer);
}

export function log(level: i32, text: string): void {
  const bytes = String.UTF8.encode(text);
  host.log(level, changetype<usize>(bytes), bytes.byteLength);
}

export function logInfo(text: string): void { log(LogLevel.INFO, text); }
export function logWarn(text: string): void { log(LogLevel.WARN, text); }
export function logError(text: string): void { log(LogLevel.ERROR, text); }

/** Wall-clock time in microseconds since the Unix epoch. */
export function now(): i64 { return host.now_micros(); }

/** Wall-clock time in milliseconds since the Unix epoch. */
export function nowMillis(): i64 { return host.now_micros() / 1000; }

/** `n` cryptographically random bytes from the host. */
export function randomBytes(n: i32): Uint8Array {
  const bytes = new Uint8Array(n);
  if (n > 0) {
    const rc = host.random_fill(bytes.dataStart, n);
    assert(rc == 0, "random_fill failed");
  }
  return bytes;
}

/** One-shot timer: handle_timer(id) runs after `delayMs`. Returns the id (>= 1) or a negative AbiError code. */
export function setTimer(delayMs: i32): i32 { return host.set_timer(delayMs); }

/** 0, or -5 (NOT_FOUND) when the timer is unknown or already fired. */
export function cancelTimer(timerId: i32): i32 { return host.cancel_timer(timerId); }

let cachedName: string | null = null;

/** This agent's name (asked once per instance: it cannot change while the instance lives). */
export function agentName(): string {
  let name = cachedName;
  if (name != null) return name;
  let cap = 64;
  let buf = heap.alloc(<usize>cap);
  let len = host.agent_name(buf, cap);
  if (len > cap) {
    heap.free(buf);
    cap = len;
    buf = heap.alloc(<usize>cap);
    len = host.agent_name(buf, cap);
  }
  name = String.UTF8.decodeUnsafe(buf, <usize>max(len, 0));
  heap.free(buf);
  cachedName = name;
  return name;
}

/**
 * Starts an MCP tool call with `args` as its arguments. Returns the call id (>= 1) or a negative AbiError
 * code (-4 when this agent was not granted server/tool). The result arrives later as a message whose
 * `toolCallId()` is this id: `inform` with the CallToolResult, or `failure`.
 */
export function callToolWith(server: string, tool: string, args: JsonValue): i32 {
  outbox.reset();
  outbox.ascii("{\"server\":");
  outbox.jsonString(server);
  outbox.ascii(",\"tool\":");
  outbox.jsonString(tool);
  outbox.ascii(",\"arguments\":");
  writeJson(outbox, args);
  outbox.byte(0x7D);
  return host.call_tool(outbox.ptr, outbox.len);
}

/** callToolWith with the arguments given as JSON text; -1 (INVALID_ARGUMENT) when it is malformed. */
export function callTool(server: string, tool: string, argsJson: string): i32 {
  const args = Json.parse(argsJson);
  if (args == null) return host.AbiError.INVALID_ARGUMENT;
  return callToolWith(server, tool, args);
}

/** True when `msg` is the result of a tool call (sender "tool:<server>"). */
export function isToolResult(msg: Message): bool {
  return msg.sender.startsWith("tool:");
}

/** The call id a tool result answers (in_reply_to "tool-<id>"), or 0 when `msg` is not one. */
export function toolCallId(msg: Message): i32 {
  if (!isToolResult(msg) || !msg.inReplyTo.startsWith("tool-")) return 0;
  const digits = msg.inReplyTo.substring(5);
  if (digits.length == 0 || digits.length > 9) return 0;
  for (let i = 0; i < digits.length; i++) {
    const c = digits.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return 0;
  }
  return I32.parseInt(digits);
}

/** An error content in the shape Caxton uses: {"error": {"code": code, "message": message}}. */
export function errorContent(code: string, message: string): JsonValue {
  return Json.obj().set("error", Json.obj().setString("code", code).setString("message", message));
}
