/*
 * Echo agent in C against the raw Caxton agent ABI (shared/spec/agent-abi.md): no SDK, no libc.
 *
 * On `request` it sends one `inform` with receiver = the request's sender, the same conversation_id and
 * protocol, in_reply_to = the request's reply_with when present, else its message_id, and the request's
 * content copied byte for byte. Other performatives are ignored.
 *
 * One pass over the message bytes notes where the values of the top-level keys it needs start (depth 1,
 * outside strings), and their raw JSON is copied into the reply: the same method as ../wat/echo.wat.
 *
 * Build (clang with the wasm32 target and wasm-ld, e.g. Debian's clang + lld):
 *   clang --target=wasm32 -O2 -nostdlib -mbulk-memory -Wl,--no-entry \
 *         -Wl,--export=agent_alloc -Wl,--export=handle_message -Wl,--strip-all -o echo.wasm echo.c
 * wasm-ld exports `memory` by default. -mbulk-memory lets the compiler turn copy loops into memory.copy
 * instead of calls to a memcpy that -nostdlib does not provide.
 */

typedef unsigned char u8;
typedef unsigned long usize;

#define IMPORT(name) __attribute__((import_module("caxton"), import_name(name)))

IMPORT("send_message") int send_message(const u8 *ptr, int len);

/* Provided by wasm-ld: the first byte after static data and the stack. */
extern u8 __heap_base;

#define PAGE 65536u
/* Bytes of fixed text a reply adds to what it copies from the request, rounded up. */
#define REPLY_OVERHEAD 1024u

static u8 *out;

/* The buffer for the next message, with room after it for the reply (at most len + REPLY_OVERHEAD). */
int agent_alloc(int len) {
  if (len < 0) return 0;
  usize base = ((usize)&__heap_base + 15) & ~(usize)15;
  usize need = base + 2 * (usize)len + REPLY_OVERHEAD;
  usize pages = (need + PAGE - 1) / PAGE;
  usize have = __builtin_wasm_memory_size(0);
  if (pages > have && __builtin_wasm_memory_grow(0, pages - have) == (usize)-1) return 0;
  return (int)base;
}

static int is_space(u8 c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

static const u8 *skip_space(const u8 *p, const u8 *end) {
  while (p < end && is_space(*p)) p++;
  return p;
}

/* p is just after an opening quote: the closing quote (escapes skipped), or end. */
static const u8 *string_end(const u8 *p, const u8 *end) {
  while (p < end && *p != '"') p += (*p == '\\') ? 2 : 1;
  return p < end ? p : end;
}

/* Just after the JSON value starting at v. */
static const u8 *value_end(const u8 *v, const u8 *end) {
  if (*v == '"') return string_end(v + 1, end) + 1;
  if (*v == '{' || *v == '[') {
    int depth = 0;
    for (; v < end; v++) {
      if (*v == '"') v = string_end(v + 1, end);
      else if (*v == '{' || *v == '[') depth++;
      else if ((*v == '}' || *v == ']') && --depth == 0) return v + 1;
    }
    return end;
  }
  while (v < end && *v != ',' && *v != '}' && *v != ']' && !is_space(*v)) v++;
  return v;
}

static int equal(const u8 *a, const char *b, usize n) {
  for (usize i = 0; i < n; i++) if (a[i] != (u8)b[i]) return 0;
  return 1;
}

static usize length(const char *s) {
  usize n = 0;
  while (s[n]) n++;
  return n;
}

enum { PERFORMATIVE, SENDER, CONVERSATION_ID, REPLY_WITH, MESSAGE_ID, PROTOCOL, CONTENT, KEY_COUNT };
static const char *const KEYS[KEY_COUNT] = {
  "performative", "sender", "conversation_id", "reply_with", "message_id", "protocol", "content",
};

/* Where each wanted key's value starts in the current message, or 0. */
static const u8 *values[KEY_COUNT];

/* One pass over [p, end): notes where the value of each wanted top-level key starts. */
static void scan_fields(const u8 *p, const u8 *end) {
  for (int k = 0; k < KEY_COUNT; k++) values[k] = 0;
  int depth = 0;
  u8 prev = 0;
  while (p < end) {
    u8 c = *p;
    if (c == '"') {
      const u8 *close = string_end(p + 1, end);
      if (depth == 1 && (prev == '{' || prev == ',')) {
        usize len = (usize)(close - p - 1);
        for (int k = 0; k < KEY_COUNT; k++) {
          if (len != length(KEYS[k]) || !equal(p + 1, KEYS[k], len)) continue;
          const u8 *colon = skip_space(close + 1, end);
          if (colon < end && *colon == ':') {
            const u8 *v = skip_space(colon + 1, end);
            if (v < end) values[k] = v;
          }
          break;
        }
      }
      prev = '"';
      p = close + 1;
      continue;
    }
    if (c == '{' || c == '[') depth++;
    else if (c == '}' || c == ']') depth--;
    if (!is_space(c)) prev = c;
    p++;
  }
}

static void emit(const u8 *src, usize n) {
  for (usize i = 0; i < n; i++) *out++ = src[i];
}

static void emit_text(const char *s) { emit((const u8 *)s, length(s)); }

/* Appends prefix and the raw value of wanted key k when the message has it; 1 if it had. */
static int emit_field(const char *prefix, int k, const u8 *end) {
  const u8 *v = values[k];
  if (!v) return 0;
  emit_text(prefix);
  emit(v, (usize)(value_end(v, end) - v));
  return 1;
}

int handle_message(int ptr, int len) {
  const u8 *msg = (const u8 *)(usize)ptr;
  const u8 *end = msg + len;
  scan_fields(msg, end);
  const u8 *performative = values[PERFORMATIVE];
  if (!performative || value_end(performative, end) - performative != 9 || !equal(performative, "\"request\"", 9)) {
    return 0;
  }
  const u8 *sender = values[SENDER];
  if (!sender) return 1;

  u8 *start = (u8 *)end; /* the reply goes right after the request */
  out = start;
  emit_text("{\"performative\":\"inform\",\"receiver\":");
  emit(sender, (usize)(value_end(sender, end) - sender));
  emit_field(",\"conversation_id\":", CONVERSATION_ID, end);
  if (!emit_field(",\"in_reply_to\":", REPLY_WITH, end)) emit_field(",\"in_reply_to\":", MESSAGE_ID, end);
  emit_field(",\"protocol\":", PROTOCOL, end);
  emit_field(",\"content\":", CONTENT, end);
  emit_text("}");
  return send_message(start, (int)(out - start)) < 0 ? 1 : 0;
}
