/**
 * Runs one call against its route's targets in order, then its fallback models (SPEC §2):
 * retry on connection error, timeout, 408, 429 and 5xx; return any other 4xx at once; every
 * attempt recorded; 3-strike cooldown; `timeout_ms` bounds the wait for the first byte.
 */
import { performance } from 'node:perf_hooks';
import { UpstreamAbort } from '../common/abort';
import { GatewayError, UpstreamError } from '../common/errors';
import type { LoadedConfig } from '../config/config.loader';
import type { CallContext, ProviderAdapter } from '../providers/adapter.interface';
import type { PlannedTarget, RoutePlanner } from '../routing/planner';
import type { AdapterPool } from './adapter-pool';
import type { CallState } from './call-state';

export interface AttemptHandlers<P, T> {
  /** Per-target preparation (transforms, image descriptions); not bounded by the timeout. */
  prepare(target: PlannedTarget, adapter: ProviderAdapter): Promise<P> | P;
  /** Sends and resolves at the first byte (streams) or with the whole response. */
  send(prepared: P, target: PlannedTarget, adapter: ProviderAdapter, ctx: CallContext): Promise<T>;
}

export interface LoopHooks {
  onFallback?(): void;
  onUpstreamError?(provider: string, code: string): void;
}

const NONE = Symbol('none');

export class ClientGoneError extends Error {
  constructor() {
    super('client disconnected');
  }
}

export class AttemptLoop {
  constructor(
    private readonly planner: RoutePlanner,
    private readonly pool: AdapterPool,
    private readonly hooks: LoopHooks = {},
  ) {}

  async run<P, T>(
    state: CallState,
    loaded: LoadedConfig,
    forwardToken: string | null,
    handlers: AttemptHandlers<P, T>,
  ): Promise<T> {
    const model = state.model ?? '';
    const visited = new Set<string>([model]);
    let last: UpstreamError | null = null;

    const tryModel = async (m: string, first: boolean): Promise<T | typeof NONE> => {
      const plan = this.planner.plan(loaded.config, m);
      if (!plan) {
        if (first) {
          throw new GatewayError(
            404,
            `The model \`${m}\` does not exist or no route serves it.`,
            'invalid_request_error',
            'model_not_found',
            'model',
          );
        }
        return NONE;
      }
      for (const target of plan.targets) {
        if (state.cancelled) throw new ClientGoneError();
        const adapter = this.pool.get(loaded.registry, target.provider);
        state.provider = target.provider.id;
        state.upstreamModel = target.upstreamModel;
        const prepared = await handlers.prepare(target, adapter);
        const result = await this.attempt(state, target, adapter, forwardToken, (ctx) =>
          handlers.send(prepared, target, adapter, ctx),
        );
        if (result.ok) return result.value;
        last = result.error;
      }
      for (const fb of plan.route.fallback) {
        if (visited.has(fb)) continue;
        visited.add(fb);
        this.hooks.onFallback?.();
        const r = await tryModel(fb, false);
        if (r !== NONE) return r;
      }
      return NONE;
    };

    const r = await tryModel(model, true);
    if (r === NONE) throw finalError(last);
    return r;
  }

  private async attempt<T>(
    state: CallState,
    target: PlannedTarget,
    adapter: ProviderAdapter,
    forwardToken: string | null,
    send: (ctx: CallContext) => Promise<T>,
  ): Promise<{ ok: true; value: T } | { ok: false; error: UpstreamError }> {
    const controller = new UpstreamAbort();
    state.controller = controller;
    const timeoutMs = target.provider.timeout_ms;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort(new UpstreamError(null, `upstream timed out after ${timeoutMs} ms`, null, 'timeout'));
    }, timeoutMs);
    const ctx = new AttemptContext(controller, state, target.provider.api_key || forwardToken || undefined);
    const t1 = performance.now();
    try {
      const value = await send(ctx);
      const dt = performance.now() - t1;
      state.upstreamWaitMs += dt;
      state.attempts.push({
        provider: target.provider.id,
        model: target.upstreamModel,
        status: 200,
        error: null,
        latency_ms: round(dt),
      });
      this.planner.cooldown.recordSuccess(target.cooldownKey);
      return { ok: true, value };
    } catch (err) {
      const dt = performance.now() - t1;
      state.upstreamWaitMs += dt;
      if (state.cancelled) throw new ClientGoneError();
      const e = normalize(err, timedOut);
      state.attempts.push({
        provider: target.provider.id,
        model: target.upstreamModel,
        status: e.status,
        error: e.message,
        latency_ms: round(dt),
      });
      if (e instanceof GatewayError) throw e;
      this.hooks.onUpstreamError?.(target.provider.id, e.status === null ? e.kind : String(e.status));
      if (!e.retryable) throw e;
      this.planner.cooldown.recordFailure(target.cooldownKey);
      return { ok: false, error: e };
    } finally {
      clearTimeout(timer);
    }
  }
}

/** The CallContext of one attempt (a class: one allocation, no per-call closures or spreads). */
class AttemptContext implements CallContext {
  readonly requestId: string;
  readonly apiKey?: string;
  readonly keyId?: string;

  constructor(
    readonly abort: UpstreamAbort,
    private readonly state: CallState,
    apiKey: string | undefined,
  ) {
    this.requestId = state.id;
    if (apiKey) this.apiKey = apiKey;
    if (state.keyId) this.keyId = state.keyId;
  }

  get signal(): AbortSignal {
    return this.abort.signal;
  }

  onUpstreamRequest(body: unknown): void {
    this.state.upstreamRequest = body;
  }
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

function normalize(err: unknown, timedOut: boolean): UpstreamError | GatewayError {
  if (timedOut) {
    return err instanceof UpstreamError && err.kind === 'timeout'
      ? err
      : new UpstreamError(null, 'upstream timed out', null, 'timeout');
  }
  if (err instanceof UpstreamError || err instanceof GatewayError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new UpstreamError(null, `upstream reply could not be handled: ${message}`, null, 'protocol');
}

/** After all attempts: 504 if the last timed out, 503 if it answered 429/503/529, else 502. */
export function finalError(last: UpstreamError | null): GatewayError {
  if (!last) return new GatewayError(502, 'No upstream target was available.', 'api_error', 'upstream_error');
  const detail = `All upstream attempts failed; last error: ${last.message}`;
  if (last.kind === 'timeout') return new GatewayError(504, detail, 'api_error', 'upstream_timeout');
  if (last.status === 429 || last.status === 503 || last.status === 529) {
    return new GatewayError(503, detail, 'api_error', 'upstream_unavailable');
  }
  return new GatewayError(502, detail, 'api_error', 'upstream_error');
}
