/**
 * The hot-path view of client keys: secret hash → key record, in memory. Loaded at start and
 * kept current by KeysService (local changes) and key events (other replicas); no database read
 * per call.
 */
import type { KeyRecord } from './key-record';

export interface KeyMatch {
  record: KeyRecord;
  /** True when the secret is the one replaced by a rotation (inside its grace period). */
  previous: boolean;
}

export class KeyCache {
  private readonly byId = new Map<string, KeyRecord>();
  private readonly byHash = new Map<string, string>();

  get size(): number {
    return this.byId.size;
  }

  /** Replaces the whole content (start, periodic refresh). */
  load(records: readonly KeyRecord[]): void {
    this.byId.clear();
    this.byHash.clear();
    for (const r of records) this.upsert(r);
  }

  upsert(record: KeyRecord): void {
    this.remove(record.id);
    if (record.revokedAt !== null) return;
    this.byId.set(record.id, record);
    this.byHash.set(record.keyHash, record.id);
    if (record.previousKeyHash !== null) this.byHash.set(record.previousKeyHash, record.id);
  }

  remove(id: string): void {
    const old = this.byId.get(id);
    if (!old) return;
    this.byId.delete(id);
    if (this.byHash.get(old.keyHash) === id) this.byHash.delete(old.keyHash);
    if (old.previousKeyHash !== null && this.byHash.get(old.previousKeyHash) === id) {
      this.byHash.delete(old.previousKeyHash);
    }
  }

  get(id: string): KeyRecord | undefined {
    return this.byId.get(id);
  }

  /** The key a secret hash belongs to; a rotated-out secret only until its grace period ends. */
  lookup(hash: string, now: number): KeyMatch | null {
    const id = this.byHash.get(hash);
    if (id === undefined) return null;
    const record = this.byId.get(id);
    if (!record) return null;
    if (record.keyHash === hash) return { record, previous: false };
    if (
      record.previousKeyHash === hash &&
      record.previousValidUntil !== null &&
      now < record.previousValidUntil
    ) {
      return { record, previous: true };
    }
    return null;
  }
}
