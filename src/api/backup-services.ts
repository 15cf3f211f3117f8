// What GET /api/v1/backup needs and NodeServices does not offer: an extension the node implements and
// passes to buildApi as `backups` (as cluster-services.ts and api-key-services.ts do).

/** A finished copy of the node's database in a private temporary file, owned by the caller until release(). */
export interface BackupSnapshot {
  path: string;
  bytes: number;
  /** Deletes the temporary file; idempotent. */
  release(): void;
}

export interface BackupServices {
  /** An online copy of the database; throws CONFLICT while another backup of this node is being taken. */
  snapshot(): Promise<BackupSnapshot>;
}
