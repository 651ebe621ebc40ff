/** KeyRepository on a TypeORM DataSource (SQLite or PostgreSQL). */
import { IsNull, LessThan, type DataSource, type Repository } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { ClientKeyEntity } from './client-key.entity';
import type { KeyChanges, KeyRecord } from './key-record';
import type { KeyPage, KeyRepository, UsageDelta } from './key.repository';

function toRecord(e: ClientKeyEntity): KeyRecord {
  return {
    id: e.id,
    name: e.name,
    keyHash: e.keyHash,
    keyPrefix: e.keyPrefix,
    last4: e.last4,
    previousKeyHash: e.previousKeyHash,
    previousValidUntil: e.previousValidUntil,
    models: e.models,
    rpm: e.rpm,
    tpm: e.tpm,
    maxTokensTotal: e.maxTokensTotal,
    expiresAt: e.expiresAt,
    enabled: Boolean(e.enabled),
    metadata: e.metadata,
    createdAt: e.createdAt,
    updatedAt: e.updatedAt,
    revokedAt: e.revokedAt,
    usage: {
      requests: e.usageRequests,
      prompt_tokens: e.usagePromptTokens,
      completion_tokens: e.usageCompletionTokens,
      total_tokens: e.usageTotalTokens,
    },
  };
}

function toEntity(r: KeyRecord): ClientKeyEntity {
  const e = new ClientKeyEntity();
  e.id = r.id;
  e.name = r.name;
  e.keyHash = r.keyHash;
  e.keyPrefix = r.keyPrefix;
  e.last4 = r.last4;
  e.previousKeyHash = r.previousKeyHash;
  e.previousValidUntil = r.previousValidUntil;
  e.models = r.models;
  e.rpm = r.rpm;
  e.tpm = r.tpm;
  e.maxTokensTotal = r.maxTokensTotal;
  e.expiresAt = r.expiresAt;
  e.enabled = r.enabled;
  e.metadata = r.metadata;
  e.createdAt = r.createdAt;
  e.updatedAt = r.updatedAt;
  e.revokedAt = r.revokedAt;
  e.usageRequests = r.usage.requests;
  e.usagePromptTokens = r.usage.prompt_tokens;
  e.usageCompletionTokens = r.usage.completion_tokens;
  e.usageTotalTokens = r.usage.total_tokens;
  return e;
}

export class TypeOrmKeyRepository implements KeyRepository {
  private readonly repo: Repository<ClientKeyEntity>;

  constructor(private readonly dataSource: DataSource) {
    this.repo = dataSource.getRepository(ClientKeyEntity);
  }

  async findActive(): Promise<KeyRecord[]> {
    const rows = await this.repo.find({ where: { revokedAt: IsNull() } });
    return rows.map(toRecord);
  }

  async findById(id: string): Promise<KeyRecord | null> {
    const row = await this.repo.findOne({ where: { id } });
    return row ? toRecord(row) : null;
  }

  async insert(record: KeyRecord): Promise<void> {
    await this.repo.insert(toEntity(record) as QueryDeepPartialEntity<ClientKeyEntity>);
  }

  async update(id: string, changes: KeyChanges): Promise<void> {
    await this.repo.update({ id }, changes as QueryDeepPartialEntity<ClientKeyEntity>);
  }

  async page(limit: number, cursor: string | null): Promise<KeyPage> {
    const rows = await this.repo.find({
      where: cursor === null ? { revokedAt: IsNull() } : { revokedAt: IsNull(), id: LessThan(cursor) },
      order: { id: 'DESC' },
      take: limit + 1,
    });
    const more = rows.length > limit;
    const data = rows.slice(0, limit).map(toRecord);
    return { data, next_cursor: more ? (data[data.length - 1]?.id ?? null) : null };
  }

  async addUsage(deltas: UsageDelta[]): Promise<void> {
    if (deltas.length === 0) return;
    await this.dataSource.transaction(async (manager) => {
      for (const d of deltas) {
        await manager
          .createQueryBuilder()
          .update(ClientKeyEntity)
          .set({
            usageRequests: () => 'usage_requests + :requests',
            usagePromptTokens: () => 'usage_prompt_tokens + :prompt',
            usageCompletionTokens: () => 'usage_completion_tokens + :completion',
            usageTotalTokens: () => 'usage_total_tokens + :total',
          })
          .where('id = :id', { id: d.id })
          .setParameters({
            requests: d.requests,
            prompt: d.prompt_tokens,
            completion: d.completion_tokens,
            total: d.total_tokens,
          })
          .execute();
      }
    });
  }
}
