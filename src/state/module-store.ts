// WebAssembly modules by content: the sha256 of the bytes is the key, so the same module deployed under ten
// names or re-deployed after an upgrade is stored once, and peers can ask for a module by the hash the
// registry gossips.
import { createHash } from 'node:crypto';
import type { SqliteDatabase } from './database.ts';

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export class ModuleStore {
  private readonly insert;
  private readonly select;
  private readonly exists;
  private readonly length;
  private readonly deleteUnused;
  private readonly now: () => Date;

  constructor(db: SqliteDatabase, now: () => Date = () => new Date()) {
    this.now = now;
    this.insert = db.prepare('INSERT OR IGNORE INTO modules (sha256, bytes, size, created_at) VALUES (?, ?, ?, ?)');
    this.select = db.prepare('SELECT bytes FROM modules WHERE sha256 = ?').pluck();
    this.exists = db.prepare('SELECT 1 FROM modules WHERE sha256 = ?').pluck();
    // length() of a BLOB is read from the row's header, not its bytes; the size column comes after the bytes
    // in the row, so reading it follows the module's chain of overflow pages (0.1 ms against 0.003 ms at 15 MiB).
    this.length = db.prepare('SELECT length(bytes) FROM modules WHERE sha256 = ?').pluck();
    this.deleteUnused = db.prepare(
      `DELETE FROM modules WHERE sha256 NOT IN (SELECT module_sha256 FROM agents)
         AND sha256 NOT IN (SELECT module_sha256 FROM agent_versions)`,
    );
  }

  /** Stores the module unless it is there already; returns its sha256 (hex). */
  put(bytes: Uint8Array): string {
    const sha = sha256Hex(bytes);
    this.insert.run(sha, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), bytes.byteLength, this.now().toISOString());
    return sha;
  }

  get(sha256: string): Buffer | undefined {
    return this.select.get(sha256) as Buffer | undefined;
  }

  has(sha256: string): boolean {
    return this.exists.get(sha256) !== undefined;
  }

  /** The module's length in bytes, without reading them; undefined when it is not stored. */
  size(sha256: string): number | undefined {
    return this.length.get(sha256) as number | undefined;
  }

  /** Deletes modules no agent and no kept version refers to; returns how many. */
  pruneUnused(): number {
    return this.deleteUnused.run().changes;
  }
}
