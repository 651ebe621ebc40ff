/** The typed, validated configuration (SPEC §2). Produced by the loader; read-only at run time. */
import type { ProviderSettings } from '../providers/adapter.interface';

export type RouteMatch =
  { exact: string } | { keyword: string } | { prefix: string } | { regex: string } | { any: true };

export interface ImageToTextConfig {
  model: string;
  prompt?: string;
  cache_ttl_s?: number;
  cache_max?: number;
}

export interface TransformsConfig {
  merge_consecutive_user?: 'keep_last' | 'join';
  drop_empty_messages?: boolean;
  strip_assistant_tags?: string[];
  non_empty_content?: string;
  max_tokens_cap?: number;
  stop?: string[];
  defaults?: Record<string, unknown>;
  overrides?: Record<string, unknown>;
  drop_params?: string[];
  response_prefix?: string;
  image_to_text?: ImageToTextConfig;
}

export interface TargetConfig {
  provider: string;
  model?: string;
  priority: number;
  weight: number;
  transforms?: TransformsConfig;
}

export interface RouteConfig {
  match: RouteMatch;
  targets: TargetConfig[];
  fallback: string[];
  transforms?: TransformsConfig;
}

export interface AlertRule {
  name: string;
  when: 'error_rate' | 'p95_latency_ms';
  above: number;
  window_s: number;
  webhook?: string;
}

export interface GatewayConfig {
  server: { body_limit_mb: number };
  auth: { require_client_key: boolean };
  traces: { enabled: boolean; store_bodies: boolean; retention_days: number; jsonl?: string };
  providers: Record<string, ProviderSettings>;
  plugins: string[];
  routes: RouteConfig[];
  alerts: AlertRule[];
}
