;; Ping: every message it receives makes it send one request to `pong`. Parses nothing, so the benchmark
;; measures the host, not the agent.
(module
  (import "caxton" "send_message" (func $send (param i32 i32) (result i32)))
  (memory (export "memory") 2)
  (data (i32.const 16) "{\"performative\":\"request\",\"receiver\":\"pong\",\"content\":1}")
  (func (export "agent_alloc") (param $len i32) (result i32) (i32.const 4096))
  (func (export "handle_message") (param i32 i32) (result i32)
    (drop (call $send (i32.const 16) (i32.const 56)))
    (i32.const 0)))
