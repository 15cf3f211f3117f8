;; Echo agent in hand-written WebAssembly text, written from shared/spec/agent-abi.md alone (no SDK).
;;
;; On `request` it sends one `inform` with receiver = the request's sender, the same conversation_id and
;; protocol, in_reply_to = the request's reply_with when present, else its message_id, and the request's
;; content copied byte for byte. Every other performative is ignored (handle_message returns 0).
;;
;; It never decodes JSON: one pass over the message bytes notes where the values of the top-level keys it needs
;; start (keys at depth 1 of the outer object, outside strings, so a "sender" key inside the content cannot
;; fool it), and the raw JSON of those values is copied into the reply. One pass matters: fuel is charged
;; per instruction, and a message can be 1 MiB. The host writes compact JSON; whitespace is tolerated too.
;;
;; Memory: page 0 holds the constant strings below; the incoming message goes at 65536 (page 1) and the
;; reply is written right after it. agent_alloc grows memory so that both fit: a reply is never longer than
;; the request plus 94 bytes of fixed text.
(module
  (import "caxton" "send_message" (func $send_message (param i32 i32) (result i32)))

  (memory (export "memory") 2)

  ;; Keys looked up in the incoming message: key number k is at 16 + 16 k, its length is byte 384 + k, and
  ;; where its value starts in the current message is the i32 at 400 + 4 k (-1 when absent).
  (data (i32.const 16) "performative")      ;; 0, 12 bytes
  (data (i32.const 32) "sender")            ;; 1, 6
  (data (i32.const 48) "conversation_id")   ;; 2, 15
  (data (i32.const 64) "reply_with")        ;; 3, 10
  (data (i32.const 80) "message_id")        ;; 4, 10
  (data (i32.const 96) "protocol")          ;; 5, 8
  (data (i32.const 112) "content")          ;; 6, 7
  (data (i32.const 384) "\0c\06\0f\0a\0a\08\07")
  (data (i32.const 128) "\"request\"")      ;; 9: the raw JSON of the only performative answered
  ;; Pieces of the reply.
  (data (i32.const 160) "{\"performative\":\"inform\",\"receiver\":")  ;; 36
  (data (i32.const 224) ",\"conversation_id\":")                      ;; 19
  (data (i32.const 256) ",\"in_reply_to\":")                          ;; 15
  (data (i32.const 288) ",\"protocol\":")                             ;; 12
  (data (i32.const 320) ",\"content\":")                              ;; 11
  (data (i32.const 352) "}")                                          ;; 1

  (global $KEY_COUNT i32 (i32.const 7))
  (global $INPUT i32 (i32.const 65536))
  ;; Next free byte of the reply being written.
  (global $out (mut i32) (i32.const 0))

  ;; agent_alloc(len): the input buffer, with room after it for the reply; 0 when memory cannot grow.
  (func (export "agent_alloc") (param $len i32) (result i32)
    (local $need i32) (local $pages i32)
    (if (i32.lt_s (local.get $len) (i32.const 0)) (then (return (i32.const 0))))
    ;; need = INPUT + 2 * len + 1024, in 64 KiB pages, rounded up (len is at most a few MiB: no overflow).
    (local.set $need
      (i32.add (global.get $INPUT) (i32.add (i32.shl (local.get $len) (i32.const 1)) (i32.const 1024))))
    (local.set $pages (i32.shr_u (i32.add (local.get $need) (i32.const 65535)) (i32.const 16)))
    (if (i32.gt_u (local.get $pages) (memory.size))
      (then
        (if (i32.eq (memory.grow (i32.sub (local.get $pages) (memory.size))) (i32.const -1))
          (then (return (i32.const 0))))))
    (global.get $INPUT))

  ;; True when the $n bytes at $a equal those at $b.
  (func $bytes_equal (param $a i32) (param $b i32) (param $n i32) (result i32)
    (block $differ
      (loop $next
        (if (i32.eqz (local.get $n)) (then (return (i32.const 1))))
        (br_if $differ (i32.ne (i32.load8_u (local.get $a)) (i32.load8_u (local.get $b))))
        (local.set $a (i32.add (local.get $a) (i32.const 1)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $next)))
    (i32.const 0))

  (func $is_space (param $c i32) (result i32)
    (i32.or
      (i32.or (i32.eq (local.get $c) (i32.const 0x20)) (i32.eq (local.get $c) (i32.const 0x0A)))
      (i32.or (i32.eq (local.get $c) (i32.const 0x0D)) (i32.eq (local.get $c) (i32.const 0x09)))))

  (func $skip_space (param $i i32) (param $end i32) (result i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (br_if $done (i32.eqz (call $is_space (i32.load8_u (local.get $i)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $i))

  ;; $i is just after an opening quote: the index of the closing quote (escapes skipped), or $end.
  (func $string_end (param $i i32) (param $end i32) (result i32)
    (local $c i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $c (i32.load8_u (local.get $i)))
        (br_if $done (i32.eq (local.get $c) (i32.const 0x22)))
        (local.set $i (i32.add (local.get $i)
          (select (i32.const 2) (i32.const 1) (i32.eq (local.get $c) (i32.const 0x5C)))))
        (br $next)))
    (select (local.get $end) (local.get $i) (i32.gt_u (local.get $i) (local.get $end))))

  ;; The index just after the JSON value that starts at $v.
  (func $value_end (param $v i32) (param $end i32) (result i32)
    (local $c i32) (local $depth i32)
    (local.set $c (i32.load8_u (local.get $v)))
    ;; A string.
    (if (i32.eq (local.get $c) (i32.const 0x22))
      (then (return (i32.add (call $string_end (i32.add (local.get $v) (i32.const 1)) (local.get $end)) (i32.const 1)))))
    ;; An object or array: to the bracket that brings the depth back to 0, skipping strings.
    (if (i32.or (i32.eq (local.get $c) (i32.const 0x7B)) (i32.eq (local.get $c) (i32.const 0x5B)))
      (then
        (loop $next
          (if (i32.ge_u (local.get $v) (local.get $end)) (then (return (local.get $end))))
          (local.set $c (i32.load8_u (local.get $v)))
          (if (i32.eq (local.get $c) (i32.const 0x22))
            (then (local.set $v (call $string_end (i32.add (local.get $v) (i32.const 1)) (local.get $end))))
            (else
              (if (i32.or (i32.eq (local.get $c) (i32.const 0x7B)) (i32.eq (local.get $c) (i32.const 0x5B)))
                (then (local.set $depth (i32.add (local.get $depth) (i32.const 1)))))
              (if (i32.or (i32.eq (local.get $c) (i32.const 0x7D)) (i32.eq (local.get $c) (i32.const 0x5D)))
                (then
                  (local.set $depth (i32.sub (local.get $depth) (i32.const 1)))
                  (if (i32.eqz (local.get $depth)) (then (return (i32.add (local.get $v) (i32.const 1)))))))))
          (local.set $v (i32.add (local.get $v) (i32.const 1)))
          (br $next))))
    ;; A number, true, false or null: up to the next delimiter.
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $v) (local.get $end)))
        (local.set $c (i32.load8_u (local.get $v)))
        (br_if $done (i32.or (i32.eq (local.get $c) (i32.const 0x2C))
          (i32.or (i32.eq (local.get $c) (i32.const 0x7D)) (i32.eq (local.get $c) (i32.const 0x5D)))))
        (br_if $done (call $is_space (local.get $c)))
        (local.set $v (i32.add (local.get $v) (i32.const 1)))
        (br $next)))
    (local.get $v))

;; The number of the key whose name is the $len bytes at $name, or -1.
  (func $key_number (param $name i32) (param $len i32) (result i32)
    (local $k i32)
    (loop $next
      (if (i32.and (i32.eq (i32.load8_u (i32.add (i32.const 384) (local.get $k))) (local.get $len))
            (call $bytes_equal (local.get $name) (i32.add (i32.const 16) (i32.shl (local.get $k) (i32.const 4))) (local.get $len)))
        (then (return (local.get $k))))
      (local.set $k (i32.add (local.get $k) (i32.const 1)))
      (br_if $next (i32.lt_u (local.get $k) (global.get $KEY_COUNT))))
    (i32.const -1))

  ;; Where the value of key number $k starts in the message last scanned, or -1.
  (func $value_of (param $k i32) (result i32)
    (i32.load (i32.add (i32.const 400) (i32.shl (local.get $k) (i32.const 2)))))

  ;; One pass over the message [$i, $end): notes where the value of each wanted top-level key starts.
  (func $scan_fields (param $i i32) (param $end i32)
    (local $c i32) (local $depth i32) (local $prev i32) (local $close i32) (local $colon i32) (local $k i32)
    (loop $clear
      (i32.store (i32.add (i32.const 400) (i32.shl (local.get $k) (i32.const 2))) (i32.const -1))
      (local.set $k (i32.add (local.get $k) (i32.const 1)))
      (br_if $clear (i32.lt_u (local.get $k) (global.get $KEY_COUNT))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $c (i32.load8_u (local.get $i)))
        (if (i32.eq (local.get $c) (i32.const 0x22))
          (then
            (local.set $close (call $string_end (i32.add (local.get $i) (i32.const 1)) (local.get $end)))
            ;; A key of the outer object: a string at depth 1 right after '{' or ','.
            (if (i32.and (i32.eq (local.get $depth) (i32.const 1))
                  (i32.or (i32.eq (local.get $prev) (i32.const 0x7B)) (i32.eq (local.get $prev) (i32.const 0x2C))))
              (then
                (local.set $k (call $key_number (i32.add (local.get $i) (i32.const 1))
                  (i32.sub (local.get $close) (i32.add (local.get $i) (i32.const 1)))))
                (if (i32.ge_s (local.get $k) (i32.const 0))
                  (then
                    (local.set $colon (call $skip_space (i32.add (local.get $close) (i32.const 1)) (local.get $end)))
                    (if (i32.and (i32.lt_u (local.get $colon) (local.get $end))
                          (i32.eq (i32.load8_u (local.get $colon)) (i32.const 0x3A)))
                      (then
                        (local.set $colon (call $skip_space (i32.add (local.get $colon) (i32.const 1)) (local.get $end)))
                        (if (i32.lt_u (local.get $colon) (local.get $end))
                          (then (i32.store (i32.add (i32.const 400) (i32.shl (local.get $k) (i32.const 2)))
                                  (local.get $colon))))))))))
            (local.set $prev (i32.const 0x22))
            (local.set $i (i32.add (local.get $close) (i32.const 1)))
            (br $next)))
        (if (i32.or (i32.eq (local.get $c) (i32.const 0x7B)) (i32.eq (local.get $c) (i32.const 0x5B)))
          (then (local.set $depth (i32.add (local.get $depth) (i32.const 1)))))
        (if (i32.or (i32.eq (local.get $c) (i32.const 0x7D)) (i32.eq (local.get $c) (i32.const 0x5D)))
          (then (local.set $depth (i32.sub (local.get $depth) (i32.const 1)))))
        (if (i32.eqz (call $is_space (local.get $c))) (then (local.set $prev (local.get $c))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next))))

  ;; Appends $n bytes from $src to the reply.
  (func $emit (param $src i32) (param $n i32)
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $n)))
        (i32.store8 (global.get $out) (i32.load8_u (local.get $src)))
        (global.set $out (i32.add (global.get $out) (i32.const 1)))
        (local.set $src (i32.add (local.get $src) (i32.const 1)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $next))))

;; Appends the prefix then the raw value of key number $k, when the message has that key. 1 if it had.
  (func $emit_field (param $prefix i32) (param $prefix_len i32) (param $k i32) (param $end i32) (result i32)
    (local $v i32)
    (local.set $v (call $value_of (local.get $k)))
    (if (i32.lt_s (local.get $v) (i32.const 0)) (then (return (i32.const 0))))
    (call $emit (local.get $prefix) (local.get $prefix_len))
    (call $emit (local.get $v) (i32.sub (call $value_end (local.get $v) (local.get $end)) (local.get $v)))
    (i32.const 1))

  (func (export "handle_message") (param $ptr i32) (param $len i32) (result i32)
    (local $end i32) (local $v i32) (local $start i32)
    (local.set $end (i32.add (local.get $ptr) (local.get $len)))
    (call $scan_fields (local.get $ptr) (local.get $end))
    ;; Only `request` is answered.
    (local.set $v (call $value_of (i32.const 0)))
    (if (i32.lt_s (local.get $v) (i32.const 0)) (then (return (i32.const 0))))
    (if (i32.or
          (i32.ne (i32.sub (call $value_end (local.get $v) (local.get $end)) (local.get $v)) (i32.const 9))
          (i32.eqz (call $bytes_equal (local.get $v) (i32.const 128) (i32.const 9))))
      (then (return (i32.const 0))))
    ;; receiver = sender. The host always sets sender; without one the message is reported as an error.
    (local.set $v (call $value_of (i32.const 1)))
    (if (i32.lt_s (local.get $v) (i32.const 0)) (then (return (i32.const 1))))
    ;; The reply goes right after the request (agent_alloc made room for it).
    (local.set $start (local.get $end))
    (global.set $out (local.get $start))
    (call $emit (i32.const 160) (i32.const 36))
    (call $emit (local.get $v) (i32.sub (call $value_end (local.get $v) (local.get $end)) (local.get $v)))
    (drop (call $emit_field (i32.const 224) (i32.const 19) (i32.const 2) (local.get $end)))
    (if (i32.eqz (call $emit_field (i32.const 256) (i32.const 15) (i32.const 3) (local.get $end)))
      (then (drop (call $emit_field (i32.const 256) (i32.const 15) (i32.const 4) (local.get $end)))))
    (drop (call $emit_field (i32.const 288) (i32.const 12) (i32.const 5) (local.get $end)))
    (drop (call $emit_field (i32.const 320) (i32.const 11) (i32.const 6) (local.get $end)))
    (call $emit (i32.const 352) (i32.const 1))
    ;; A refused send (negative code) is reported as an error, so the host answers the requester with failure.
    (if (result i32) (i32.lt_s (call $send_message (local.get $start) (i32.sub (global.get $out) (local.get $start))) (i32.const 0))
      (then (i32.const 1))
      (else (i32.const 0))))
)
