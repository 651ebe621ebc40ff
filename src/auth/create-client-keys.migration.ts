/** Creates `client_keys` (see client-key.entity.ts). SQLite and PostgreSQL. */
import type { MigrationInterface, QueryRunner } from 'typeorm';

function columns(driver: 'sqlite' | 'postgres'): string {
  const bool = driver === 'postgres' ? 'BOOLEAN NOT NULL DEFAULT TRUE' : 'BOOLEAN NOT NULL DEFAULT 1';
  return [
    'id VARCHAR(40) PRIMARY KEY NOT NULL',
    'name VARCHAR(200) NOT NULL',
    'key_hash VARCHAR(64) NOT NULL',
    'key_prefix VARCHAR(16) NOT NULL',
    'last4 VARCHAR(8) NOT NULL',
    'previous_key_hash VARCHAR(64)',
    'previous_valid_until BIGINT',
    'models TEXT',
    'rpm INTEGER',
    'tpm INTEGER',
    'max_tokens_total BIGINT',
    'expires_at BIGINT',
    `enabled ${bool}`,
    'metadata TEXT',
    'created_at BIGINT NOT NULL',
    'updated_at BIGINT NOT NULL',
    'revoked_at BIGINT',
    'usage_requests BIGINT NOT NULL DEFAULT 0',
    'usage_prompt_tokens BIGINT NOT NULL DEFAULT 0',
    'usage_completion_tokens BIGINT NOT NULL DEFAULT 0',
    'usage_total_tokens BIGINT NOT NULL DEFAULT 0',
  ].join(', ');
}

export class CreateClientKeys1795347600000 implements MigrationInterface {
  name = 'CreateClientKeys1795347600000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const driver = queryRunner.connection.options.type === 'postgres' ? 'postgres' : 'sqlite';
    await queryRunner.query(`CREATE TABLE client_keys (${columns(driver)})`);
    await queryRunner.query('CREATE UNIQUE INDEX idx_client_keys_key_hash ON client_keys (key_hash)');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE client_keys');
  }
}
