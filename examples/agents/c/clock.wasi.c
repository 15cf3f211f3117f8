/*
 * A C agent on wasi-libc (a WASI preview 1 "reactor"): printf goes to the agent log, clock_gettime works,
 * and the Caxton ABI is reached through two exports and one import. What it shows: a stock C toolchain and
 * libc run under Caxton's sandboxed WASI shim (shared/spec/agent-abi.md).
 *
 * On `request` it prints one line (`clock: request from <sender> at <ns> ns`) and answers the sender with
 * `inform`, content {"monotonic_ns": N, "realtime_s": S}, in the request's conversation, in_reply_to its
 * message_id. Other
 * performatives are only logged.
 *
 * Build (Debian: clang lld wasi-libc libclang-rt-14-dev-wasm32):
 *   clang --target=wasm32-wasi -mexec-model=reactor -O2 -o clock.wasm clock.wasi.c
 * A reactor has no main: wasm-ld exports `_initialize` (libc's constructors), which Caxton calls first.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

__attribute__((import_module("caxton"), import_name("send_message"))) int send_message(const char *ptr, int len);

__attribute__((export_name("agent_alloc"))) int agent_alloc(int len) {
  return (int)(long)malloc(len > 0 ? (size_t)len + 1 : 1);
}

/* Copies the string value of top-level-ish key `key` ("\"sender\":\"") into out; 0 when absent. */
static int string_field(const char *json, const char *key, char *out, size_t cap) {
  const char *at = strstr(json, key);
  if (!at) return 0;
  at += strlen(key);
  size_t n = 0;
  while (at[n] && at[n] != '"' && n + 1 < cap) n++;
  memcpy(out, at, n);
  out[n] = 0;
  return 1;
}

__attribute__((export_name("handle_message"))) int handle_message(char *ptr, int len) {
  ptr[len] = 0; /* agent_alloc left one byte for this */
  char performative[32], sender[160], id[160], conversation[160];
  if (!string_field(ptr, "\"performative\":\"", performative, sizeof performative)) return 1;
  if (!string_field(ptr, "\"sender\":\"", sender, sizeof sender)) return 1;
  if (!string_field(ptr, "\"message_id\":\"", id, sizeof id)) id[0] = 0;
  if (!string_field(ptr, "\"conversation_id\":\"", conversation, sizeof conversation)) return 1;

  struct timespec mono, real;
  clock_gettime(CLOCK_MONOTONIC, &mono);
  clock_gettime(CLOCK_REALTIME, &real);
  long long ns = (long long)mono.tv_sec * 1000000000LL + mono.tv_nsec;
  printf("clock: %s from %s at %lld ns\n", performative, sender, ns);
  fflush(stdout);

  if (strcmp(performative, "request") == 0) {
    char reply[512];
    int n = snprintf(reply, sizeof reply,
        "{\"performative\":\"inform\",\"receiver\":\"%s\",\"conversation_id\":\"%s\",\"in_reply_to\":\"%s\","
        "\"content\":{\"monotonic_ns\":%lld,\"realtime_s\":%lld}}",
        sender, conversation, id, ns, (long long)real.tv_sec);
    if (n < 0 || n >= (int)sizeof reply) return 2;
    if (send_message(reply, n) != 0) return 3;
  }
  free(ptr);
  return 0;
}
