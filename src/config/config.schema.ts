/**
 * The YAML document's shape (SPEC §2), checked with class-validator. Unknown keys are faults,
 * except inside a provider entry (adapter options), `defaults` and `overrides`. Cross-field checks
 * (match kinds, regex, provider references, adapter types) live in the loader.
 */
import { Type } from 'class-transformer';
import {
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsNumber,
  IsObject,
  IsOptional,
  IsPositive,
  IsString,
  IsUrl,
  Min,
  MinLength,
  ValidateNested,
} from 'class-validator';
import type { ImageToTextConfig, TransformsConfig } from './config.types';

export class ServerDto {
  @IsOptional() @IsNumber() @IsPositive() body_limit_mb?: number;
}

export class AuthDto {
  @IsOptional() @IsBoolean() require_client_key?: boolean;
}

export class TracesDto {
  @IsOptional() @IsBoolean() enabled?: boolean;
  @IsOptional() @IsBoolean() store_bodies?: boolean;
  @IsOptional() @IsInt() @Min(0) retention_days?: number;
  @IsOptional() @IsString() jsonl?: string;
}

/** A provider entry; keys not listed here are kept as adapter options. */
export class ProviderDto {
  @IsString() @MinLength(1) type!: string;
  @IsOptional() @IsString() base_url?: string;
  @IsOptional() @IsString() api_key?: string;
  @IsOptional() @IsObject() headers?: Record<string, unknown>;
  @IsOptional() @IsInt() @IsPositive() timeout_ms?: number;
  @IsOptional() @IsString() api_version?: string;
  @IsOptional() @IsBoolean() discover_models?: boolean;
  @IsOptional() @IsInt() @IsPositive() default_max_tokens?: number;
}

export class MatchDto {
  @IsOptional() @IsString() @MinLength(1) exact?: string;
  @IsOptional() @IsString() @MinLength(1) keyword?: string;
  @IsOptional() @IsString() @MinLength(1) prefix?: string;
  @IsOptional() @IsString() @MinLength(1) regex?: string;
  @IsOptional() @IsIn([true]) any?: boolean;
}

export class ImageToTextDto {
  @IsString() @MinLength(1) model!: string;
  @IsOptional() @IsString() prompt?: string;
  @IsOptional() @IsInt() @IsPositive() cache_ttl_s?: number;
  @IsOptional() @IsInt() @IsPositive() cache_max?: number;
}

export class TransformsDto {
  @IsOptional() @IsIn(['keep_last', 'join']) merge_consecutive_user?: 'keep_last' | 'join';
  @IsOptional() @IsBoolean() drop_empty_messages?: boolean;
  @IsOptional() @IsArray() @IsString({ each: true }) strip_assistant_tags?: string[];
  @IsOptional() @IsString() non_empty_content?: string;
  @IsOptional() @IsInt() @IsPositive() max_tokens_cap?: number;
  @IsOptional() @IsArray() @IsString({ each: true }) stop?: string[];
  @IsOptional() @IsObject() defaults?: Record<string, unknown>;
  @IsOptional() @IsObject() overrides?: Record<string, unknown>;
  @IsOptional() @IsArray() @IsString({ each: true }) drop_params?: string[];
  @IsOptional() @IsString() response_prefix?: string;
  @IsOptional() @ValidateNested() @Type(() => ImageToTextDto) image_to_text?: ImageToTextDto;
}

/** Fails to compile when the transform keys here and in `TransformsConfig` drift apart. */
type SameKeys<A, B> = [keyof A] extends [keyof B] ? ([keyof B] extends [keyof A] ? true : false) : false;
export const TRANSFORM_KEYS_MATCH: SameKeys<TransformsDto, TransformsConfig> = true;
export const IMAGE_TO_TEXT_KEYS_MATCH: SameKeys<ImageToTextDto, ImageToTextConfig> = true;

export class TargetDto {
  @IsString() @MinLength(1) provider!: string;
  @IsOptional() @IsString() @MinLength(1) model?: string;
  @IsOptional() @IsInt() priority?: number;
  @IsOptional() @IsNumber() @IsPositive() weight?: number;
  @IsOptional() @ValidateNested() @Type(() => TransformsDto) transforms?: TransformsDto;
}

export class RouteDto {
  @IsObject() @ValidateNested() @Type(() => MatchDto) match!: MatchDto;
  @IsArray() @ArrayMinSize(1) @ValidateNested({ each: true }) @Type(() => TargetDto) targets!: TargetDto[];
  /** Entries are checked one by one in the loader (`routes[i].fallback[j]: …`). */
  @IsOptional() @IsArray() fallback?: string[];
  @IsOptional() @ValidateNested() @Type(() => TransformsDto) transforms?: TransformsDto;
}

export class AlertDto {
  @IsString() @MinLength(1) name!: string;
  @IsIn(['error_rate', 'p95_latency_ms']) when!: 'error_rate' | 'p95_latency_ms';
  @IsNumber() @Min(0) above!: number;
  @IsInt() @IsPositive() window_s!: number;
  @IsOptional()
  @IsUrl({ protocols: ['http', 'https'], require_tld: false, require_protocol: true })
  webhook?: string;
}

/** The document without `providers` (validated one by one, since their extra keys are allowed). */
export class ConfigDto {
  @IsOptional() @ValidateNested() @Type(() => ServerDto) server?: ServerDto;
  @IsOptional() @ValidateNested() @Type(() => AuthDto) auth?: AuthDto;
  @IsOptional() @ValidateNested() @Type(() => TracesDto) traces?: TracesDto;
  @IsOptional() @IsObject() providers?: Record<string, unknown>;
  /** Entries are checked one by one in the loader (`plugins[i]: …`). */
  @IsOptional() @IsArray() plugins?: string[];
  @IsArray() @ValidateNested({ each: true }) @Type(() => RouteDto) routes!: RouteDto[];
  @IsOptional() @IsArray() @ValidateNested({ each: true }) @Type(() => AlertDto) alerts?: AlertDto[];
}
