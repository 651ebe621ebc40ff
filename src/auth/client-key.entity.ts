/** The `client_keys` table (migration: CreateClientKeys). Times are epoch milliseconds. */
import { Column, Entity, Index, PrimaryColumn, type ValueTransformer } from 'typeorm';

/** bigint columns come back as strings from PostgreSQL and as numbers from SQLite. */
const bigintNumber: ValueTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: string | number | null) => (value === null ? null : Number(value)),
};

@Entity('client_keys')
export class ClientKeyEntity {
  @PrimaryColumn({ type: 'varchar', length: 40 })
  id!: string;

  @Column({ type: 'varchar', length: 200 })
  name!: string;

  @Index('idx_client_keys_key_hash', { unique: true })
  @Column({ name: 'key_hash', type: 'varchar', length: 64 })
  keyHash!: string;

  @Column({ name: 'key_prefix', type: 'varchar', length: 16 })
  keyPrefix!: string;

  @Column({ type: 'varchar', length: 8 })
  last4!: string;

  @Column({ name: 'previous_key_hash', type: 'varchar', length: 64, nullable: true })
  previousKeyHash!: string | null;

  @Column({ name: 'previous_valid_until', type: 'bigint', nullable: true, transformer: bigintNumber })
  previousValidUntil!: number | null;

  @Column({ type: 'simple-json', nullable: true })
  models!: string[] | null;

  @Column({ type: 'integer', nullable: true })
  rpm!: number | null;

  @Column({ type: 'integer', nullable: true })
  tpm!: number | null;

  @Column({ name: 'max_tokens_total', type: 'bigint', nullable: true, transformer: bigintNumber })
  maxTokensTotal!: number | null;

  @Column({ name: 'expires_at', type: 'bigint', nullable: true, transformer: bigintNumber })
  expiresAt!: number | null;

  @Column({ type: 'boolean', default: true })
  enabled!: boolean;

  @Column({ type: 'simple-json', nullable: true })
  metadata!: Record<string, unknown> | null;

  @Column({ name: 'created_at', type: 'bigint', transformer: bigintNumber })
  createdAt!: number;

  @Column({ name: 'updated_at', type: 'bigint', transformer: bigintNumber })
  updatedAt!: number;

  @Column({ name: 'revoked_at', type: 'bigint', nullable: true, transformer: bigintNumber })
  revokedAt!: number | null;

  @Column({ name: 'usage_requests', type: 'bigint', default: 0, transformer: bigintNumber })
  usageRequests!: number;

  @Column({ name: 'usage_prompt_tokens', type: 'bigint', default: 0, transformer: bigintNumber })
  usagePromptTokens!: number;

  @Column({ name: 'usage_completion_tokens', type: 'bigint', default: 0, transformer: bigintNumber })
  usageCompletionTokens!: number;

  @Column({ name: 'usage_total_tokens', type: 'bigint', default: 0, transformer: bigintNumber })
  usageTotalTokens!: number;
}
