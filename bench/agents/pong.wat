;; Pong: answers every message with one inform to `ping`.
(module
  (import "caxton" "send_message" (func $send (param i32 i32) (result i32)))
  (memory (export "memory") 2)
  (data (i32.const 16) "{\"performative\":\"inform\",\"receiver\":\"ping\",\"content\":1}")
  (func (export "agent_alloc") (param $len i32) (result i32) (i32.const 4096))
  (func (export "handle_message") (param i32 i32) (result i32)
    (drop (call $send (i32.const 16) (i32.const 55)))
    (i32.const 0)))
