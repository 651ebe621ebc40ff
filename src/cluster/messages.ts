/**
 * Messages between the cluster primary and its workers (WORKERS=N, node:cluster IPC). The
 * primary holds the rate-limit counters and relays key changes; workers ask it. Every message
 * carries `gw` so other IPC traffic is ignored.
 */
import type { KeyEvent } from '../auth/key-events';
import type { LimitDecision, Limits } from '../auth/rate-limiter';

/** Set by the primary in each worker's environment: the worker's link to it is live. */
export const CLUSTER_ENV = 'GATEWAY_CLUSTER_PRIMARY';

export type ToPrimary =
  | { gw: 'admit'; seq: number; keyId: string; limits: Limits; now: number }
  | { gw: 'tokens'; keyId: string; tokens: number; now: number }
  | { gw: 'key-event'; event: KeyEvent }
  | { gw: 'serving'; url: string }
  /** GET /metrics on a worker: the primary gathers every worker's metrics into one text. */
  | { gw: 'metrics'; seq: number };

export type ToWorker =
  | { gw: 'decision'; seq: number; decision: LimitDecision }
  | { gw: 'key-event'; event: KeyEvent }
  | { gw: 'metrics'; seq: number; text: string | null; error: string | null };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

function isLimits(v: unknown): v is Limits {
  if (!isObject(v)) return false;
  const ok = (n: unknown): boolean => n === null || (typeof n === 'number' && Number.isFinite(n));
  return ok(v.rpm) && ok(v.tpm);
}

function isKeyEvent(v: unknown): v is KeyEvent {
  return isObject(v) && (v.type === 'changed' || v.type === 'revoked') && typeof v.id === 'string';
}

function isDecision(v: unknown): v is LimitDecision {
  if (!isObject(v)) return false;
  if (v.ok === true) return true;
  return v.ok === false && (v.limit === 'rpm' || v.limit === 'tpm') && typeof v.retryAfterMs === 'number';
}

export function toPrimary(m: unknown): ToPrimary | null {
  if (!isObject(m)) return null;
  switch (m.gw) {
    case 'admit':
      return typeof m.seq === 'number' &&
        typeof m.keyId === 'string' &&
        isLimits(m.limits) &&
        typeof m.now === 'number'
        ? (m as ToPrimary)
        : null;
    case 'tokens':
      return typeof m.keyId === 'string' && typeof m.tokens === 'number' && typeof m.now === 'number'
        ? (m as ToPrimary)
        : null;
    case 'key-event':
      return isKeyEvent(m.event) ? (m as ToPrimary) : null;
    case 'serving':
      return typeof m.url === 'string' ? (m as ToPrimary) : null;
    case 'metrics':
      return typeof m.seq === 'number' ? (m as ToPrimary) : null;
    default:
      return null;
  }
}

export function toWorker(m: unknown): ToWorker | null {
  if (!isObject(m)) return null;
  if (m.gw === 'decision')
    return typeof m.seq === 'number' && isDecision(m.decision) ? (m as ToWorker) : null;
  if (m.gw === 'key-event') return isKeyEvent(m.event) ? (m as ToWorker) : null;
  if (m.gw === 'metrics') {
    const text = m.text === null || typeof m.text === 'string';
    const error = m.error === null || typeof m.error === 'string';
    return typeof m.seq === 'number' && text && error ? (m as ToWorker) : null;
  }
  return null;
}

/** The worker's side of the IPC channel, or null when this process is no worker of ours. */
export interface PrimaryLink {
  send(message: ToPrimary): void;
  onMessage(handler: (message: ToWorker) => void): () => void;
}

export function primaryLink(proc: NodeJS.Process = process): PrimaryLink | null {
  if (!proc.env[CLUSTER_ENV] || typeof proc.send !== 'function' || !proc.connected) return null;
  return {
    send: (message) => {
      if (proc.connected) proc.send?.(message);
    },
    onMessage: (handler) => {
      const listener = (raw: unknown): void => {
        const m = toWorker(raw);
        if (m) handler(m);
      };
      proc.on('message', listener);
      return () => proc.off('message', listener);
    },
  };
}
