/** Request and response shapes of the key admin API (SPEC §4). */
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsInt,
  IsISO8601,
  IsObject,
  IsOptional,
  IsString,
  Length,
  Max,
  Min,
} from 'class-validator';
import type { KeyRecord, KeyUsage } from '../auth/key-record';

const MAX_LIMIT = 1_000_000_000_000;

class KeyLimitsDto {
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(200)
  @IsString({ each: true })
  @Length(1, 200, { each: true })
  models?: string[] | null;

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_LIMIT)
  rpm?: number | null;

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_LIMIT)
  tpm?: number | null;

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(Number.MAX_SAFE_INTEGER)
  max_tokens_total?: number | null;

  @IsOptional()
  @IsISO8601({ strict: true })
  expires_at?: string | null;

  @IsOptional()
  @IsObject()
  metadata?: Record<string, unknown> | null;
}

export class CreateKeyDto extends KeyLimitsDto {
  @IsString()
  @Length(1, 200)
  name!: string;
}

export class UpdateKeyDto extends KeyLimitsDto {
  @IsOptional()
  @IsString()
  @Length(1, 200)
  name?: string;

  @IsOptional()
  @IsBoolean()
  enabled?: boolean;
}

export class RotateKeyDto {
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(30 * 24 * 3600)
  grace_seconds?: number;
}

export class ListKeysQuery {
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(200)
  limit?: number;

  @IsOptional()
  @IsString()
  @Length(1, 100)
  cursor?: string;
}

export interface KeyView {
  id: string;
  name: string;
  key_prefix: string;
  last4: string;
  models: string[] | null;
  rpm: number | null;
  tpm: number | null;
  max_tokens_total: number | null;
  expires_at: string | null;
  enabled: boolean;
  created_at: string;
  metadata: Record<string, unknown> | null;
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/** A key as the API shows it: never the secret or its hash. */
export function keyView(r: KeyRecord): KeyView {
  return {
    id: r.id,
    name: r.name,
    key_prefix: r.keyPrefix,
    last4: r.last4,
    models: r.models,
    rpm: r.rpm,
    tpm: r.tpm,
    max_tokens_total: r.maxTokensTotal,
    expires_at: iso(r.expiresAt),
    enabled: r.enabled,
    created_at: new Date(r.createdAt).toISOString(),
    metadata: r.metadata,
  };
}

export function keyViewWithUsage(r: KeyRecord): KeyView & { usage: KeyUsage } {
  return { ...keyView(r), usage: r.usage };
}
