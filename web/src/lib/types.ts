/** Shapes of the gateway's HTTP API (SPEC §4, §5), as the UI reads them. */

export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  cached_tokens: number;
  reasoning_tokens: number;
  source: string | null;
}

export interface Attempt {
  provider: string | null;
  model: string | null;
  status: number | null;
  error: string | null;
  latency_ms: number | null;
}

export type TraceStatus = 'success' | 'error' | 'cancelled';

export interface TraceRecord {
  id: string;
  created_at: string;
  session_id: string;
  turn: number;
  endpoint: string;
  key_id: string | null;
  model: string | null;
  provider: string | null;
  upstream_model: string | null;
  stream: boolean;
  status: TraceStatus | string;
  http_status: number;
  error: string | null;
  latency_ms: number;
  ttft_ms: number | null;
  overhead_ms: number;
  usage: Usage;
  attempts: unknown;
  flags: { multimodal: boolean; tools: boolean };
  metadata: unknown;
  replay_of: string | null;
  request?: unknown;
  upstream_request?: unknown;
  response?: unknown;
}

export interface SessionSummary {
  id: string;
  name: string;
  first_at: string;
  last_at: string;
  turns: number;
  models: unknown;
  total_tokens: number;
}

export interface KeyUsage {
  requests: number;
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export interface ClientKey {
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
  usage?: KeyUsage;
}

export interface ClientKeyWithSecret extends ClientKey {
  key: string;
}

export interface StatsFigures {
  requests: number;
  errors: number;
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  latency_p50_ms: number | null;
  latency_p95_ms: number | null;
}

export interface Stats {
  since: string;
  until: string;
  bucket_s: number;
  totals: StatsFigures;
  by_model: Array<StatsFigures & { model: string | null }>;
  by_provider: Array<StatsFigures & { provider: string | null }>;
  buckets: Array<StatsFigures & { start: string }>;
}

export interface ReplayResult {
  record_id: string;
  response: unknown;
}
