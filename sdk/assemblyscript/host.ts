// The `caxton` imports of the agent ABI, version 1 (shared/spec/agent-abi.md), exactly as the host provides
// them. Everything else in the SDK is built on these; an agent may also call them directly.

@external("caxton", "send_message")
export declare function send_message(ptr: usize, len: i32): i32;

@external("caxton", "log")
export declare function log(level: i32, ptr: usize, len: i32): void;

@external("caxton", "now_micros")
export declare function now_micros(): i64;

@external("caxton", "random_fill")
export declare function random_fill(ptr: usize, len: i32): i32;

@external("caxton", "set_timer")
export declare function set_timer(delay_ms: i32): i32;

@external("caxton", "cancel_timer")
export declare function cancel_timer(timer_id: i32): i32;

@external("caxton", "agent_name")
export declare function agent_name(ptr: usize, cap: i32): i32;

@external("caxton", "call_tool")
export declare function call_tool(ptr: usize, len: i32): i32;

/** Negative results of host calls (agent-abi.md "Error codes"). */
export namespace AbiError {
  export const INVALID_ARGUMENT: i32 = -1;
  export const TOO_LARGE: i32 = -2;
  export const QUOTA_EXCEEDED: i32 = -3;
  export const PERMISSION_DENIED: i32 = -4;
  export const NOT_FOUND: i32 = -5;
  export const UNAVAILABLE: i32 = -6;
}
