/** The YAML document's shape, checked with class-validator. Cross-field checks live in the loader. */
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
  Min,
  MinLength,
  ValidateNested,
} from 'class-validator';

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
  @IsOptional() @IsArray() @IsString({ each: true }) @MinLength(1, { each: true }) fallback?: string[];
  @IsOptional() @ValidateNested() @Type(() => TransformsDto) transforms?: TransformsDto;
}

export class AlertDto {
  @IsString() @MinLength(1) name!: string;
  @IsIn(['error_rate', 'p95_latency_ms']) when!: 'error_rate' | 'p95_latency_ms';
  @IsNumber() above!: number;
  @IsInt() @IsPositive() window_s!: number;
  @IsOptional() @IsString() webhook?: string;
}

/** The document without `providers` (validated one by one, since their extra keys are allowed). */
export class ConfigDto {
  @IsOptional() @ValidateNested() @Type(() => ServerDto) server?: ServerDto;
  @IsOptional() @ValidateNested() @Type(() => AuthDto) auth?: AuthDto;
  @IsOptional() @ValidateNested() @Type(() => TracesDto) traces?: TracesDto;
  @IsOptional() @IsObject() providers?: Record<string, unknown>;
  @IsOptional() @IsArray() @IsString({ each: true }) plugins?: string[];
  @IsArray() @ValidateNested({ each: true }) @Type(() => RouteDto) routes!: RouteDto[];
  @IsOptional() @IsArray() @ValidateNested({ each: true }) @Type(() => AlertDto) alerts?: AlertDto[];
}
