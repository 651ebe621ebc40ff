import type { AlertRule } from '../../config/config.types';
import type { CallRecord } from '../../gateway/call-record';
import { Alerts, type AlertEvent } from './alerts';

function rec(status: CallRecord['status'], latencyMs = 10): CallRecord {
  return { status, latencyMs } as CallRecord;
}

function setup(rules: AlertRule[], post?: (url: string, body: AlertEvent) => Promise<number>) {
  let now = 1_000_000;
  let current = rules;
  const listeners: Array<() => void> = [];
  const lines: Array<{ level: 'warn' | 'info'; obj: Record<string, unknown>; msg: string }> = [];
  const posts: Array<{ url: string; body: AlertEvent }> = [];
  const alerts = new Alerts({
    rules: () => current,
    onRulesChange: (cb) => {
      listeners.push(cb);
      return () => undefined;
    },
    logger: {
      warn: (obj, msg) => lines.push({ level: 'warn', obj: obj as Record<string, unknown>, msg }),
      info: (obj, msg) => lines.push({ level: 'info', obj: obj as Record<string, unknown>, msg }),
    },
    evaluateEveryMs: 60_000,
    now: () => now,
    post:
      post ??
      (async (url, body) => {
        posts.push({ url, body });
        return 204;
      }),
  });
  return {
    alerts,
    lines,
    posts,
    advance: (ms: number) => (now += ms),
    reload: (next: AlertRule[]) => {
      current = next;
      for (const l of listeners) l();
    },
  };
}

const errRule: AlertRule = {
  name: 'e',
  when: 'error_rate',
  above: 0.5,
  window_s: 10,
  webhook: 'http://h/hook/tok',
};

describe('Alerts', () => {
  it('fires once per crossing and re-arms when the value falls back', async () => {
    const t = setup([errRule]);
    t.alerts.observe(rec('success'));
    t.alerts.observe(rec('error'));
    t.alerts.evaluate(); // 0.5 is not above 0.5
    expect(t.lines).toHaveLength(0);
    t.alerts.observe(rec('error'));
    t.alerts.evaluate();
    t.alerts.evaluate();
    await t.alerts.close();
    expect(t.lines.filter((l) => l.level === 'warn')).toHaveLength(1);
    expect(t.posts).toHaveLength(1);
    expect(t.posts[0]?.body).toMatchObject({ alert: 'e', when: 'error_rate', calls: 3, state: 'firing' });
    expect(t.posts[0]?.body.value).toBeCloseTo(0.667, 3);
    t.advance(11_000);
    t.alerts.evaluate(); // window empty: re-armed
    expect(t.lines.at(-1)).toMatchObject({ level: 'info' });
    t.alerts.observe(rec('error'));
    t.alerts.evaluate();
    await t.alerts.close();
    expect(t.posts).toHaveLength(2);
  });

  it('does not count cancelled calls', () => {
    const t = setup([errRule]);
    t.alerts.observe(rec('cancelled'));
    t.alerts.observe(rec('cancelled'));
    t.alerts.observe(rec('success'));
    t.alerts.evaluate();
    expect(t.lines).toHaveLength(0);
  });

  it('p95 latency rules, without webhook: log only', async () => {
    const t = setup([{ name: 'p', when: 'p95_latency_ms', above: 100, window_s: 5 }]);
    for (let i = 0; i < 19; i++) t.alerts.observe(rec('success', 10));
    t.alerts.observe(rec('success', 500));
    t.alerts.evaluate(); // rank 19 of 20 is still 10 ms
    expect(t.lines).toHaveLength(0);
    t.alerts.observe(rec('success', 500));
    t.alerts.evaluate();
    await t.alerts.close();
    expect(t.lines).toHaveLength(1);
    expect(t.lines[0]?.obj.value as number).toBeGreaterThanOrEqual(500);
    expect(t.posts).toHaveLength(0);
  });

  it('logs a failing or refusing webhook without its path, and never throws', async () => {
    const failing = setup([errRule], async () => {
      throw new Error('connect ECONNREFUSED for http://h/hook/tok');
    });
    failing.alerts.observe(rec('error'));
    expect(() => failing.alerts.evaluate()).not.toThrow();
    await failing.alerts.close();
    const line = failing.lines.find((l) => l.msg === 'alert webhook could not be reached');
    expect(line?.obj.webhook).toBe('http://h');
    expect(JSON.stringify(failing.lines)).not.toContain('/hook/tok');

    const refusing = setup([errRule], async () => 500);
    refusing.alerts.observe(rec('error'));
    refusing.alerts.evaluate();
    await refusing.alerts.close();
    expect(refusing.lines.find((l) => l.msg === 'alert webhook refused the alert')?.obj.status).toBe(500);
  });

  it('keeps an unchanged rule across reloads, starts a changed one afresh', () => {
    const t = setup([errRule]);
    t.alerts.observe(rec('error'));
    t.alerts.evaluate();
    expect(t.lines).toHaveLength(1);
    t.reload([errRule]); // same rule: still fired, no second line
    t.alerts.evaluate();
    expect(t.lines).toHaveLength(1);
    t.reload([{ ...errRule, above: 0.1 }]); // changed: new window, nothing yet
    t.alerts.evaluate();
    expect(t.lines).toHaveLength(1);
    t.alerts.observe(rec('error'));
    t.alerts.evaluate();
    expect(t.lines).toHaveLength(2);
    t.reload([]);
    t.alerts.observe(rec('error'));
    t.alerts.evaluate();
    expect(t.lines).toHaveLength(2);
  });
});
