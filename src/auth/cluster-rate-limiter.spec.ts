import { toPrimary, toWorker, type PrimaryLink, type ToPrimary, type ToWorker } from '../cluster/messages';
import { ClusterKeyEvents } from './cluster-key-events';
import { ClusterRateLimiter } from './cluster-rate-limiter';
import { MemoryRateLimiter } from './rate-limiter';

/** Workers linked to one in-test "primary" holding a MemoryRateLimiter, as src/cluster/primary.ts does. */
function fakeCluster(workers: number, answer = true): PrimaryLink[] {
  const limiter = new MemoryRateLimiter();
  const handlers: Array<Set<(m: ToWorker) => void>> = Array.from({ length: workers }, () => new Set());
  const deliver = (i: number, m: ToWorker): void => {
    // Through JSON, as IPC serializes.
    const copy = toWorker(JSON.parse(JSON.stringify(m)));
    if (copy) for (const h of handlers[i] ?? []) h(copy);
  };
  return handlers.map((own, i) => ({
    send: (raw: ToPrimary) => {
      const m = toPrimary(JSON.parse(JSON.stringify(raw)));
      if (!m) throw new Error('bad message');
      if (m.gw === 'admit' && answer) {
        void limiter
          .admit(m.keyId, m.limits, m.now)
          .then((decision) => deliver(i, { gw: 'decision', seq: m.seq, decision }));
      } else if (m.gw === 'tokens') limiter.addTokens(m.keyId, m.tokens, m.now);
      else if (m.gw === 'key-event')
        handlers.forEach((_, j) => j !== i && deliver(j, { gw: 'key-event', event: m.event }));
    },
    onMessage: (h) => {
      own.add(h);
      return () => own.delete(h);
    },
  }));
}

describe('ClusterRateLimiter', () => {
  it('one rpm budget for every worker', async () => {
    const [a, b] = fakeCluster(2).map((l) => new ClusterRateLimiter(l));
    const now = 1_000_000;
    const limits = { rpm: 3, tpm: null };
    const decisions = await Promise.all(
      [a, b, a, b, a].map((l) => (l as ClusterRateLimiter).admit('k1', limits, now)),
    );
    expect(decisions.filter((d) => d.ok)).toHaveLength(3);
    expect(decisions[4]).toEqual({ ok: false, limit: 'rpm', retryAfterMs: 60_000 });
  });

  it('tokens settled on one worker count against tpm on the other', async () => {
    const [a, b] = fakeCluster(2).map((l) => new ClusterRateLimiter(l)) as [
      ClusterRateLimiter,
      ClusterRateLimiter,
    ];
    const now = 2_000_000;
    a.addTokens('k2', 100, now);
    const d = await b.admit('k2', { rpm: null, tpm: 100 }, now + 10);
    expect(d.ok).toBe(false);
  });

  it('fails open (and reports) when the primary does not answer', async () => {
    const errors: unknown[] = [];
    const [link] = fakeCluster(1, false);
    const l = new ClusterRateLimiter(link as PrimaryLink, { timeoutMs: 20, onError: (e) => errors.push(e) });
    expect(await l.admit('k3', { rpm: 1, tpm: null }, 0)).toEqual({ ok: true });
    expect(errors).toHaveLength(1);
  });

  it('no limits: no message at all', async () => {
    const send = jest.fn();
    const l = new ClusterRateLimiter({ send, onMessage: () => () => undefined });
    expect(await l.admit('k', { rpm: null, tpm: null }, 0)).toEqual({ ok: true });
    expect(send).not.toHaveBeenCalled();
  });
});

describe('ClusterKeyEvents', () => {
  it('an event published by one worker reaches the others, not itself', async () => {
    const links = fakeCluster(3);
    const seen: string[][] = [[], [], []];
    const events = links.map((l) => new ClusterKeyEvents(l));
    await Promise.all(events.map((e, i) => e.subscribe((ev) => seen[i]?.push(`${ev.type}:${ev.id}`))));
    await events[0]?.publish({ type: 'revoked', id: 'key_1' });
    expect(seen).toEqual([[], ['revoked:key_1'], ['revoked:key_1']]);
  });
});

describe('cluster messages', () => {
  it('refuse anything not shaped as ours', () => {
    expect(
      toPrimary({ gw: 'admit', seq: 1, keyId: 'k', limits: { rpm: 'x', tpm: null }, now: 1 }),
    ).toBeNull();
    expect(toPrimary({ cmd: 'NODE_CLUSTER' })).toBeNull();
    expect(toPrimary('admit')).toBeNull();
    expect(toWorker({ gw: 'key-event', event: { type: 'deleted', id: 'k' } })).toBeNull();
    expect(toWorker({ gw: 'decision', seq: 1, decision: { ok: false, limit: 'rpm' } })).toBeNull();
    expect(toWorker({ gw: 'decision', seq: 1, decision: { ok: true } })).toEqual({
      gw: 'decision',
      seq: 1,
      decision: { ok: true },
    });
  });
});
