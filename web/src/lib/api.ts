/** A small client for the gateway's /api and /admin endpoints, authenticated with the master key. */
import { forgetKey, storedKey } from './auth';
import type {
  ClientKey,
  ClientKeyWithSecret,
  Page,
  ReplayResult,
  SessionSummary,
  Stats,
  TraceRecord,
} from './types';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code: string | null,
  ) {
    super(message);
  }
}

type Listener = () => void;
const unauthorizedListeners = new Set<Listener>();

/** Called when the gateway refuses the stored master key (it was changed, or is wrong). */
export function onUnauthorized(fn: Listener): () => void {
  unauthorizedListeners.add(fn);
  return () => unauthorizedListeners.delete(fn);
}

function errorOf(status: number, body: unknown): ApiError {
  if (typeof body === 'object' && body !== null && 'error' in body) {
    const e = (body as { error: unknown }).error;
    if (typeof e === 'object' && e !== null) {
      const { message, code } = e as { message?: unknown; code?: unknown };
      return new ApiError(
        status,
        typeof message === 'string' ? message : `HTTP ${status}`,
        typeof code === 'string' ? code : null,
      );
    }
  }
  return new ApiError(status, `HTTP ${status}`, null);
}

export async function request<T>(
  method: string,
  path: string,
  body?: unknown,
  key: string | null = storedKey(),
): Promise<T> {
  const headers: Record<string, string> = {};
  if (key) headers.authorization = `Bearer ${key}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, {
    method,
    headers,
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  let parsed: unknown = undefined;
  if (text.length > 0) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = text;
    }
  }
  if (!res.ok) {
    if (res.status === 401 && key === storedKey()) {
      forgetKey();
      unauthorizedListeners.forEach((fn) => fn());
    }
    throw errorOf(res.status, parsed);
  }
  return parsed as T;
}

export function query(params: Record<string, string | number | null | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params))
    if (v !== null && v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

export interface RecordFilters {
  model?: string;
  provider?: string;
  status?: string;
  key_id?: string;
  session_id?: string;
  since?: string;
  until?: string;
  q?: string;
}

export const api = {
  /** Checks a master key without storing it; resolves false on 401. */
  async checkKey(key: string): Promise<boolean> {
    try {
      await request<Page<TraceRecord>>('GET', '/api/records?limit=1', undefined, key);
      return true;
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) return false;
      throw e;
    }
  },
  records: (filters: RecordFilters, limit: number, cursor: string | null = null) =>
    request<Page<TraceRecord>>('GET', `/api/records${query({ ...filters, limit, cursor })}`),
  record: (id: string) => request<TraceRecord>('GET', `/api/records/${encodeURIComponent(id)}`),
  deleteRecord: (id: string) => request<void>('DELETE', `/api/records/${encodeURIComponent(id)}`),
  replay: (id: string, body: { request?: unknown }) =>
    request<ReplayResult>('POST', `/api/records/${encodeURIComponent(id)}/replay`, body),
  sessions: (limit: number, cursor: string | null = null) =>
    request<Page<SessionSummary>>('GET', `/api/sessions${query({ limit, cursor })}`),
  sessionRecords: (id: string) =>
    request<Page<TraceRecord>>('GET', `/api/sessions/${encodeURIComponent(id)}/records`),
  stats: (since: string, until: string, bucket?: string) =>
    request<Stats>('GET', `/api/stats${query({ since, until, bucket })}`),
  keys: (limit = 200, cursor: string | null = null) =>
    request<Page<ClientKey>>('GET', `/admin/keys${query({ limit, cursor })}`),
  key: (id: string) => request<ClientKey>('GET', `/admin/keys/${encodeURIComponent(id)}`),
  createKey: (body: Record<string, unknown>) => request<ClientKeyWithSecret>('POST', '/admin/keys', body),
  updateKey: (id: string, body: Record<string, unknown>) =>
    request<ClientKey>('PATCH', `/admin/keys/${encodeURIComponent(id)}`, body),
  rotateKey: (id: string, graceSeconds: number) =>
    request<ClientKeyWithSecret>('POST', `/admin/keys/${encodeURIComponent(id)}/rotate`, {
      grace_seconds: graceSeconds,
    }),
  revokeKey: (id: string) => request<void>('DELETE', `/admin/keys/${encodeURIComponent(id)}`),
  /** Model ids the gateway lists (exact routes); empty when listing needs a client key. */
  async models(): Promise<string[]> {
    try {
      const res = await fetch('/v1/models');
      if (!res.ok) return [];
      const r = (await res.json()) as { data?: Array<{ id?: unknown }> };
      return (r.data ?? []).map((m) => (typeof m.id === 'string' ? m.id : '')).filter(Boolean);
    } catch {
      return [];
    }
  },
};
