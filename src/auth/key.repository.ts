/** Storage of client keys. The TypeORM implementation lives in typeorm-key.repository.ts. */
import type { KeyChanges, KeyRecord, KeyUsage } from './key-record';

export interface KeyPage {
  data: KeyRecord[];
  next_cursor: string | null;
}

export interface UsageDelta extends KeyUsage {
  id: string;
}

export interface KeyRepository {
  /** Every key that is not revoked (loaded into memory at start). */
  findActive(): Promise<KeyRecord[]>;
  findById(id: string): Promise<KeyRecord | null>;
  insert(record: KeyRecord): Promise<void>;
  update(id: string, changes: KeyChanges): Promise<void>;
  /** Newest first, by id; `cursor` is the last id of the previous page. Revoked keys are left out. */
  page(limit: number, cursor: string | null): Promise<KeyPage>;
  /** Adds usage counts atomically (increments, so several replicas may write at once). */
  addUsage(deltas: UsageDelta[]): Promise<void>;
}

export const KEY_REPOSITORY = Symbol('KEY_REPOSITORY');
