/** In-memory KeyRepository for unit tests (same ordering and paging rules as the TypeORM one). */
import type { KeyChanges, KeyRecord } from '../../src/auth/key-record';
import type { KeyPage, KeyRepository, UsageDelta } from '../../src/auth/key.repository';

const clone = (r: KeyRecord): KeyRecord => ({
  ...r,
  usage: { ...r.usage },
  models: r.models ? [...r.models] : null,
  metadata: r.metadata ? { ...r.metadata } : null,
});

export class FakeKeyRepository implements KeyRepository {
  readonly rows = new Map<string, KeyRecord>();
  usageWrites = 0;
  failNextUsageWrite = false;

  async findActive(): Promise<KeyRecord[]> {
    return [...this.rows.values()].filter((r) => r.revokedAt === null).map(clone);
  }

  async findById(id: string): Promise<KeyRecord | null> {
    const r = this.rows.get(id);
    return r ? clone(r) : null;
  }

  async insert(record: KeyRecord): Promise<void> {
    if (this.rows.has(record.id)) throw new Error('duplicate id');
    for (const r of this.rows.values()) if (r.keyHash === record.keyHash) throw new Error('duplicate hash');
    this.rows.set(record.id, clone(record));
  }

  async update(id: string, changes: KeyChanges): Promise<void> {
    const r = this.rows.get(id);
    if (r) this.rows.set(id, { ...r, ...changes });
  }

  async page(limit: number, cursor: string | null): Promise<KeyPage> {
    const all = [...this.rows.values()]
      .filter((r) => r.revokedAt === null && (cursor === null || r.id < cursor))
      .sort((a, b) => (a.id < b.id ? 1 : -1));
    const data = all.slice(0, limit).map(clone);
    return { data, next_cursor: all.length > limit ? (data[data.length - 1]?.id ?? null) : null };
  }

  async addUsage(deltas: UsageDelta[]): Promise<void> {
    if (this.failNextUsageWrite) {
      this.failNextUsageWrite = false;
      throw new Error('database unavailable');
    }
    this.usageWrites++;
    for (const d of deltas) {
      const r = this.rows.get(d.id);
      if (!r) continue;
      r.usage = {
        requests: r.usage.requests + d.requests,
        prompt_tokens: r.usage.prompt_tokens + d.prompt_tokens,
        completion_tokens: r.usage.completion_tokens + d.completion_tokens,
        total_tokens: r.usage.total_tokens + d.total_tokens,
      };
    }
  }
}
