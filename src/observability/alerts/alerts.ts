/**
 * `alerts:` rules evaluated over rolling windows of finished calls. observe() is O(rules) and
 * allocation-free; a timer (unref'd, 1 s) reads each window. A rule whose value goes above its
 * threshold logs one warning and, when it has a webhook, POSTs one JSON body; it fires again only
 * after the value has fallen back to or below the threshold. Webhook failures are logged, never
 * thrown. Rules follow live config reloads (an unchanged rule keeps its window and state).
 * Cancelled calls (the client went away) count neither as calls nor as errors.
 */
import type { AlertRule } from '../../config/config.types';
import type { CallRecord } from '../../gateway/call-record';
import type { CallObserver } from '../call-observers';
import { RollingWindow } from './rolling-window';

export interface AlertLogger {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

export interface AlertEvent {
  alert: string;
  when: AlertRule['when'];
  value: number;
  above: number;
  window_s: number;
  calls: number;
  state: 'firing';
  at: string;
  service: string;
  /** One line, for chat webhooks that show `text`. */
  text: string;
}

export interface AlertsOptions {
  rules: () => AlertRule[];
  onRulesChange: (cb: () => void) => () => void;
  logger: AlertLogger;
  evaluateEveryMs?: number;
  webhookTimeoutMs?: number;
  now?: () => number;
  post?: (url: string, body: AlertEvent, timeoutMs: number) => Promise<number>;
}

interface LiveRule {
  key: string;
  rule: AlertRule;
  window: RollingWindow;
  fired: boolean;
}

async function postJson(url: string, body: AlertEvent, timeoutMs: number): Promise<number> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  await res.arrayBuffer().catch(() => undefined);
  return res.status;
}

/** The webhook's origin only: its path or query often carries a secret token. */
function origin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '(invalid url)';
  }
}

function ruleKey(r: AlertRule): string {
  return JSON.stringify([r.name, r.when, r.above, r.window_s, r.webhook ?? null]);
}

export class Alerts implements CallObserver {
  private live: LiveRule[] = [];
  private timer: NodeJS.Timeout | null = null;
  private readonly unsubscribe: () => void;
  private readonly now: () => number;
  private readonly post: NonNullable<AlertsOptions['post']>;
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly opts: AlertsOptions) {
    this.now = opts.now ?? Date.now;
    this.post = opts.post ?? postJson;
    this.sync();
    this.unsubscribe = opts.onRulesChange(() => this.sync());
  }

  /** Rebuilds the rule list from the config, keeping the window of every unchanged rule. */
  private sync(): void {
    const old = new Map(this.live.map((l) => [l.key, l]));
    this.live = this.opts.rules().map((rule) => {
      const key = ruleKey(rule);
      const kept = old.get(key);
      old.delete(key);
      return (
        kept ?? {
          key,
          rule,
          window: new RollingWindow(rule.window_s, rule.when === 'p95_latency_ms'),
          fired: false,
        }
      );
    });
    if (this.live.length > 0 && !this.timer) {
      this.timer = setInterval(() => this.evaluate(), this.opts.evaluateEveryMs ?? 1000);
      this.timer.unref();
    } else if (this.live.length === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  observe(rec: CallRecord): void {
    const live = this.live;
    if (live.length === 0 || rec.status === 'cancelled') return;
    const now = this.now();
    const error = rec.status === 'error';
    for (let i = 0; i < live.length; i++) (live[i] as LiveRule).window.add(now, error, rec.latencyMs);
  }

  /** Reads every window; fires or re-arms. Public for tests. */
  evaluate(): void {
    const now = this.now();
    for (const l of this.live) {
      const reading = l.window.read(now);
      const value = l.rule.when === 'error_rate' ? reading.errorRate : reading.p95Ms;
      const above = reading.calls > 0 && value > l.rule.above;
      if (above && !l.fired) {
        l.fired = true;
        this.fire(l.rule, value, reading.calls, now);
      } else if (!above && l.fired) {
        l.fired = false;
        this.opts.logger.info(
          { alert: l.rule.name, when: l.rule.when, value, above: l.rule.above, window_s: l.rule.window_s },
          `alert ${l.rule.name} resolved: ${l.rule.when} back to ${round(value)}`,
        );
      }
    }
  }

  private fire(rule: AlertRule, value: number, calls: number, now: number): void {
    const v = round(value);
    const text = `alert ${rule.name}: ${rule.when} ${v} above ${rule.above} over the last ${rule.window_s} s (${calls} calls)`;
    this.opts.logger.warn(
      { alert: rule.name, when: rule.when, value: v, above: rule.above, window_s: rule.window_s, calls },
      text,
    );
    if (!rule.webhook) return;
    const event: AlertEvent = {
      alert: rule.name,
      when: rule.when,
      value: v,
      above: rule.above,
      window_s: rule.window_s,
      calls,
      state: 'firing',
      at: new Date(now).toISOString(),
      service: 'llm-trace-gateway',
      text,
    };
    const url = rule.webhook;
    const p = this.post(url, event, this.opts.webhookTimeoutMs ?? 5000)
      .then((status) => {
        if (status < 200 || status >= 300)
          this.opts.logger.warn(
            { alert: rule.name, webhook: origin(url), status },
            'alert webhook refused the alert',
          );
      })
      .catch((err: unknown) => {
        this.opts.logger.warn(
          {
            alert: rule.name,
            webhook: origin(url),
            error: (err instanceof Error ? err.message : String(err)).split(url).join(origin(url)),
          },
          'alert webhook could not be reached',
        );
      })
      .finally(() => this.pending.delete(p));
    this.pending.add(p);
  }

  /** Stops the timer and waits for webhook posts under way. */
  async close(): Promise<void> {
    this.unsubscribe();
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await Promise.all([...this.pending]);
  }
}

function round(v: number): number {
  return Math.round(v * 1000) / 1000;
}
