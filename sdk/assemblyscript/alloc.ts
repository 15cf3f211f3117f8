// `agent_alloc`, the export through which the host hands over each incoming message.
//
// The buffer is unmanaged memory (heap.alloc), invisible to the garbage collector, so a collection can never
// free it between agent_alloc and handle_message. One buffer is reused for every message: the host writes a
// message, handle_message parses it into managed objects, and the bytes are no longer needed. A buffer that
// grew past KEEP_CAPACITY is returned to the allocator after the message so one large message does not pin
// that much memory for the instance's life.

// Every agent exports agent_alloc, so importing the runtime hooks here guarantees that the names the build
// flags refer to (caxtonAbort, caxtonTrace, caxtonSeed) exist whatever else the agent imports.
import "./runtime-hooks";

const KEEP_CAPACITY: usize = 64 * 1024;

let inbox: usize = 0;
let inboxCapacity: usize = 0;

/** ABI export: a pointer to `len` writable bytes for the next incoming message; 0 when `len` is negative. */
export function agent_alloc(len: i32): i32 {
  if (len < 0) return 0;
  const need = len == 0 ? <usize>1 : <usize>len;
  if (need > inboxCapacity) {
    if (inbox != 0) heap.free(inbox);
    inbox = heap.alloc(need);
    inboxCapacity = need;
  }
  return <i32>inbox;
}

/** Called once a message has been parsed. */
export function releaseInbox(): void {
  if (inboxCapacity > KEEP_CAPACITY) {
    heap.free(inbox);
    inbox = 0;
    inboxCapacity = 0;
  }
}
