/**
 * Per-key usage from settled calls. Counts accumulate in memory and are written to the database
 * in batches (atomic increments) by `flush`, off the request path.
 */
import { addUsage, emptyUsage, type KeyUsage } from './key-record';
import type { KeyRepository, UsageDelta } from './key.repository';

export class UsageMeter {
  private pending = new Map<string, KeyUsage>();
  /** The batch being written: still counted by `pendingFor` until the write is applied. */
  private inflight = new Map<string, KeyUsage>();

  constructor(private readonly repo: Pick<KeyRepository, 'addUsage'>) {}

  record(keyId: string, usage: KeyUsage): void {
    this.pending.set(keyId, addUsage(this.pending.get(keyId) ?? emptyUsage(), usage));
  }

  /** Usage recorded here and not yet written (or being written). */
  pendingFor(keyId: string): KeyUsage {
    const inflight = this.inflight.get(keyId);
    const pending = this.pending.get(keyId) ?? emptyUsage();
    return inflight ? addUsage(pending, inflight) : pending;
  }

  get pendingKeys(): number {
    return this.pending.size;
  }

  /**
   * Writes the pending counts. `applied` receives them right after the write, in the same tick
   * as they stop being pending, so no reader sees them counted twice or not at all. On failure
   * they stay pending. One flush at a time (callers serialize).
   */
  async flush(applied: (written: UsageDelta[]) => void = () => undefined): Promise<UsageDelta[]> {
    if (this.pending.size === 0) return [];
    this.inflight = this.pending;
    this.pending = new Map();
    const deltas: UsageDelta[] = [...this.inflight].map(([id, u]) => ({ id, ...u }));
    try {
      await this.repo.addUsage(deltas);
      applied(deltas);
      return deltas;
    } catch (err) {
      for (const d of deltas) this.record(d.id, d);
      throw err;
    } finally {
      this.inflight = new Map();
    }
  }
}
