// The bounds of the state tool, shared by its argument checks, the backends and the CLI. Fixed rather than
// configured: the spec fixes the value size, and the others keep one call's work (and one reply) bounded.

/** tools.md: values are JSON up to 1 MiB (UTF-8 bytes of the JSON text). */
export const STATE_VALUE_MAX_BYTES = 1024 * 1024;

/**
 * Longest key, in UTF-8 bytes. Keys are names, not data: 1 KiB is far above any path-like key and keeps the
 * primary-key index (agent, key) small.
 */
export const STATE_KEY_MAX_BYTES = 1024;

/** Entries in one batch_store and keys in one batch_retrieve: one call, one transaction, a bounded reply. */
export const STATE_BATCH_MAX_ENTRIES = 1000;

/** Bytes of all values of one batch_store together: one transaction holds at most this much. */
export const STATE_BATCH_MAX_BYTES = 16 * 1024 * 1024;

/**
 * Keys `list` returns at most. A call may ask for fewer (`limit`); the reply says `truncated: true` when
 * more keys match, and the caller narrows the prefix.
 */
export const STATE_LIST_MAX_KEYS = 1000;
