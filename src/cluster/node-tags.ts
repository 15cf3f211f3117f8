// Node meta as Serf writes it (serf.go encodeTags): 0xff, then a msgpack map of string to string. A stock
// `serf members` shows these as the node's tags, so Caxton nodes are recognisable from Serf and the other
// way round; meta that is not in this form (an old Serf's bare role string) reads as no tags.
import { META_MAX_BYTES } from './membership/memberlist.ts';
import { MsgpackReader, MsgpackWriter } from './wire/msgpack.ts';

/** Serf's tagMagicByte. */
const TAG_MAGIC = 0xff;

/** What a Caxton node announces: its version and REST API address (node-to-node routing will add `route`). */
export interface CaxtonTags {
  caxton: string;
  api: string;
}

export function encodeTags(tags: Record<string, string>): Uint8Array {
  const w = new MsgpackWriter(64);
  const entries = Object.entries(tags);
  w.byte(TAG_MAGIC).mapHeader(entries.length);
  for (const [k, v] of entries) w.str(k).str(v);
  const meta = w.finish();
  if (meta.length > META_MAX_BYTES) throw new RangeError(`node tags take ${meta.length} bytes, at most ${META_MAX_BYTES}`);
  return meta;
}

const utf8 = new TextDecoder();

/** Tags from a member's meta; empty when the meta is not Serf's tag encoding (never throws). */
export function decodeTags(meta: Uint8Array): Record<string, string> {
  if (meta.length === 0 || meta[0] !== TAG_MAGIC) return {};
  try {
    const value = new MsgpackReader(meta, 1).read();
    if (!(value instanceof Map)) return {};
    const tags: Record<string, string> = {};
    for (const [k, v] of value) if (v instanceof Uint8Array) tags[k] = utf8.decode(v);
    return tags;
  } catch {
    return {};
  }
}
