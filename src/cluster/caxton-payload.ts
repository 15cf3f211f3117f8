// Caxton's own payloads inside memberlist user messages and push-pull user state. A Serf agent in the
// same pool sends its own (first byte 1 for messages, 2 for push-pull state): everything that does not
// start with CAXTON_MAGIC is foreign and ignored, and Serf in turn logs ours as an unknown type.

/** 0xCA: no Serf message type (they are small integers), easy to spot in a packet dump. */
export const CAXTON_MAGIC = 0xca;

/** What follows the magic byte. */
export const PayloadKind = {
  /** A gossip-key operation to apply (key-rotation.ts). */
  keyRequest: 1,
  /** A member's answer to a keyRequest. */
  keyResult: 2,
  /** One agent registry entry, spread by gossip (registry/registry-codec.ts). */
  registryUpdate: 3,
  /** The whole agent registry, in push-pull user state (registry/registry-codec.ts). */
  registryState: 4,
  /**
   * When a registry write was made at its writer (registry/registry-codec.ts): a message of its own beside
   * the unchanged registryUpdate, because nodes of the previous version drop an update with anything added
   * to it, but drop a kind they do not know without harm (test/cluster/registry/previous-decoder.test.ts).
   */
  registryStamp: 5,
} as const;
export type PayloadKindCode = (typeof PayloadKind)[keyof typeof PayloadKind];

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder();

/** [magic][kind][JSON body]: these are rare control messages, so readability beats compactness. */
export function encodePayload(kind: PayloadKindCode, body: unknown): Uint8Array {
  const json = utf8Encoder.encode(JSON.stringify(body));
  const out = new Uint8Array(2 + json.length);
  out[0] = CAXTON_MAGIC;
  out[1] = kind;
  out.set(json, 2);
  return out;
}

/** The kind and body of a Caxton payload; undefined for a foreign or malformed one (never throws). */
export function decodePayload(payload: Uint8Array): { kind: number; body: unknown } | undefined {
  if (payload.length < 2 || payload[0] !== CAXTON_MAGIC) return undefined;
  try {
    return { kind: payload[1], body: JSON.parse(utf8Decoder.decode(payload.subarray(2))) as unknown };
  } catch {
    return undefined;
  }
}
