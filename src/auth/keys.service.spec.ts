import { FakeKeyRepository } from '../../test/support/fake-key-repository';
import { GatewayError } from '../common/errors';
import { KeyCache } from './key-cache';
import type { KeyEvent, KeyEvents } from './key-events';
import { hashSecret } from './key-format';
import { KeysService } from './keys.service';
import { UsageMeter } from './usage-meter';

class RecordingEvents implements KeyEvents {
  published: KeyEvent[] = [];
  handler: ((e: KeyEvent) => void) | null = null;
  async publish(event: KeyEvent): Promise<void> {
    this.published.push(event);
  }
  async subscribe(handler: (e: KeyEvent) => void): Promise<void> {
    this.handler = handler;
  }
  async close(): Promise<void> {}
}

function setup(start = Date.parse('2026-01-01T00:00:00Z')) {
  const clock = { t: start };
  const repo = new FakeKeyRepository();
  const cache = new KeyCache();
  const meter = new UsageMeter(repo);
  const events = new RecordingEvents();
  const service = new KeysService({ repo, cache, meter, events, now: () => clock.t });
  return { clock, repo, cache, meter, events, service };
}

async function rejection(p: Promise<unknown>): Promise<GatewayError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof GatewayError) return err;
    throw err;
  }
  throw new Error('expected a GatewayError');
}

describe('KeysService', () => {
  it('creates a key: sk-gw- + 40 base62 characters, stored only as its SHA-256', async () => {
    const { service, repo, cache, events } = setup();
    const { record, key } = await service.create({
      name: 'app',
      models: ['gpt-*'],
      rpm: 5,
      metadata: { team: 'a' },
    });
    expect(key).toMatch(/^sk-gw-[0-9A-Za-z]{40}$/);
    const row = repo.rows.get(record.id)!;
    expect(row.keyHash).toBe(hashSecret(key));
    expect(JSON.stringify(row)).not.toContain(key);
    expect(row).toMatchObject({
      name: 'app',
      models: ['gpt-*'],
      rpm: 5,
      tpm: null,
      enabled: true,
      last4: key.slice(-4),
    });
    expect(row.metadata).toEqual({ team: 'a' });
    expect(cache.lookup(hashSecret(key), Date.now())?.record.id).toBe(record.id);
    expect(events.published).toEqual([{ type: 'changed', id: record.id }]);
  });

  it('issues a different secret every time', async () => {
    const { service } = setup();
    const keys = new Set<string>();
    for (let i = 0; i < 20; i++) keys.add((await service.create({ name: `k${i}` })).key);
    expect(keys.size).toBe(20);
  });

  it('refuses an expires_at in the past or unparsable with a 400 naming the field', async () => {
    const { service, clock } = setup();
    const past = await rejection(
      service.create({ name: 'x', expires_at: new Date(clock.t - 1000).toISOString() }),
    );
    expect(past.status).toBe(400);
    expect(past.param).toBe('expires_at');
    const bad = await rejection(service.create({ name: 'x', expires_at: 'tomorrow' }));
    expect(bad.status).toBe(400);
    const ok = await service.create({ name: 'x', expires_at: new Date(clock.t + 60_000).toISOString() });
    expect(ok.record.expiresAt).toBe(clock.t + 60_000);
  });

  it('lists newest first with a cursor', async () => {
    const { service, clock } = setup();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      clock.t += 1000;
      ids.push((await service.create({ name: `k${i}` })).record.id);
    }
    const first = await service.list(2, null);
    expect(first.data.map((r) => r.id)).toEqual([ids[4], ids[3]]);
    const second = await service.list(2, first.next_cursor);
    expect(second.data.map((r) => r.id)).toEqual([ids[2], ids[1]]);
    const last = await service.list(2, second.next_cursor);
    expect(last.data.map((r) => r.id)).toEqual([ids[0]]);
    expect(last.next_cursor).toBeNull();
  });

  it('reports usage including counts not yet written, and writes them in one batch', async () => {
    const { service, meter, repo, cache } = setup();
    const { record } = await service.create({ name: 'u' });
    meter.record(record.id, { requests: 1, prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 });
    meter.record(record.id, { requests: 1, prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 });
    expect((await service.get(record.id)).usage).toEqual({
      requests: 2,
      prompt_tokens: 11,
      completion_tokens: 6,
      total_tokens: 17,
    });
    await service.flushUsage();
    expect(repo.usageWrites).toBe(1);
    expect(repo.rows.get(record.id)!.usage.total_tokens).toBe(17);
    expect(meter.pendingFor(record.id).total_tokens).toBe(0);
    expect(cache.get(record.id)!.usage.total_tokens).toBe(17);
    expect((await service.get(record.id)).usage.total_tokens).toBe(17);
  });

  it('counts every call once when a usage flush lands while a key is being read', async () => {
    const { service, meter, repo } = setup();
    const { record } = await service.create({ name: 'u' });
    meter.record(record.id, { requests: 1, prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 });
    // The database read of the key answers only after the flush has had every chance to run.
    const slowRead = repo.findById.bind(repo);
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    repo.findById = async (id) => {
      const row = await slowRead(id);
      await gate;
      return row ? { ...row, usage: { ...row.usage } } : row;
    };
    const reading = service.get(record.id);
    const flushing = service.flushUsage();
    await new Promise((r) => setImmediate(r));
    release();
    const [got] = await Promise.all([reading, flushing]);
    expect(got.usage.requests).toBe(1);
    expect((await service.get(record.id)).usage.requests).toBe(1);
  });

  it('keeps usage pending when the database write fails', async () => {
    const { service, meter, repo } = setup();
    const { record } = await service.create({ name: 'u' });
    meter.record(record.id, { requests: 1, prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 });
    repo.failNextUsageWrite = true;
    await expect(service.flushUsage()).rejects.toThrow('database unavailable');
    expect(meter.pendingFor(record.id).total_tokens).toBe(2);
    await service.flushUsage();
    expect(repo.rows.get(record.id)!.usage.total_tokens).toBe(2);
  });

  it('updates name, models, limits, expiry and enabled; null clears a limit; absent fields stay', async () => {
    const { service, cache, clock } = setup();
    const { record } = await service.create({ name: 'a', rpm: 5, tpm: 100, models: ['gpt-*'] });
    const changed = await service.update(record.id, {
      name: 'b',
      rpm: null,
      enabled: false,
      expires_at: new Date(clock.t + 3_600_000).toISOString(),
    });
    expect(changed).toMatchObject({ name: 'b', rpm: null, tpm: 100, models: ['gpt-*'], enabled: false });
    expect(changed.expiresAt).toBe(clock.t + 3_600_000);
    expect(cache.get(record.id)).toMatchObject({ name: 'b', enabled: false });
    const cleared = await service.update(record.id, { models: null, expires_at: null });
    expect(cleared.models).toBeNull();
    expect(cleared.expiresAt).toBeNull();
  });

  it('answers 404 for an unknown or revoked id', async () => {
    const { service } = setup();
    expect((await rejection(service.get('key_nope'))).status).toBe(404);
    const { record } = await service.create({ name: 'x' });
    await service.revoke(record.id);
    expect((await rejection(service.get(record.id))).status).toBe(404);
    expect((await rejection(service.update(record.id, { name: 'y' }))).status).toBe(404);
    expect((await rejection(service.rotate(record.id))).status).toBe(404);
  });

  describe('rotate', () => {
    it('gives a new secret for the same id; without grace the old secret stops at once', async () => {
      const { service, cache, clock } = setup();
      const { record, key: oldKey } = await service.create({ name: 'r', rpm: 7 });
      const rotated = await service.rotate(record.id);
      expect(rotated.record.id).toBe(record.id);
      expect(rotated.key).not.toBe(oldKey);
      expect(rotated.record.rpm).toBe(7);
      expect(cache.lookup(hashSecret(oldKey), clock.t)).toBeNull();
      expect(cache.lookup(hashSecret(rotated.key), clock.t)?.record.id).toBe(record.id);
    });

    it('keeps the old secret valid until the grace period ends', async () => {
      const { service, cache, clock } = setup();
      const { record, key: oldKey } = await service.create({ name: 'r' });
      const rotated = await service.rotate(record.id, 30);
      expect(cache.lookup(hashSecret(oldKey), clock.t)).toMatchObject({ previous: true });
      expect(cache.lookup(hashSecret(oldKey), clock.t + 29_999)?.record.id).toBe(record.id);
      expect(cache.lookup(hashSecret(oldKey), clock.t + 30_000)).toBeNull();
      expect(cache.lookup(hashSecret(rotated.key), clock.t + 30_000)).toMatchObject({ previous: false });
    });

    it('carries usage over', async () => {
      const { service, meter } = setup();
      const { record } = await service.create({ name: 'r', max_tokens_total: 1000 });
      meter.record(record.id, { requests: 3, prompt_tokens: 30, completion_tokens: 30, total_tokens: 60 });
      await service.flushUsage();
      const rotated = await service.rotate(record.id);
      expect(rotated.record.usage.total_tokens).toBe(60);
      expect(rotated.record.maxTokensTotal).toBe(1000);
    });
  });

  it('revokes: the secret is refused at once and other replicas are told', async () => {
    const { service, cache, events, clock } = setup();
    const { record, key } = await service.create({ name: 'x' });
    await service.revoke(record.id);
    expect(cache.lookup(hashSecret(key), clock.t)).toBeNull();
    expect(events.published.at(-1)).toEqual({ type: 'revoked', id: record.id });
    expect((await service.list(10, null)).data).toHaveLength(0);
  });

  it('loads every active key at start and follows changes made by another replica', async () => {
    const a = setup();
    const { key, record } = await a.service.create({ name: 'shared' });
    const revoked = await a.service.create({ name: 'gone' });
    await a.service.revoke(revoked.record.id);

    // A second replica on the same database.
    const cacheB = new KeyCache();
    const eventsB = new RecordingEvents();
    const b = new KeysService({
      repo: a.repo,
      cache: cacheB,
      meter: new UsageMeter(a.repo),
      events: eventsB,
    });
    await b.start({ flushMs: 60_000, refreshMs: 60_000 });
    expect(cacheB.size).toBe(1);
    expect(cacheB.lookup(hashSecret(key), Date.now())?.record.name).toBe('shared');

    await a.service.update(record.id, { name: 'renamed' });
    eventsB.handler!({ type: 'changed', id: record.id });
    await b.flushUsage(); // waits for the serialized reload
    expect(cacheB.get(record.id)?.name).toBe('renamed');

    eventsB.handler!({ type: 'revoked', id: record.id });
    expect(cacheB.lookup(hashSecret(key), Date.now())).toBeNull();
    await b.stop();
  });
});

describe('UsageMeter during a flush', () => {
  it('keeps counting a batch while it is being written, so quota checks never see it missing', async () => {
    let release: () => void = () => undefined;
    const seen: number[] = [];
    const meter = new UsageMeter({
      addUsage: () => new Promise<void>((resolve) => (release = resolve)),
    });
    meter.record('k', { requests: 1, prompt_tokens: 5, completion_tokens: 5, total_tokens: 10 });
    const flushing = meter.flush(() => seen.push(meter.pendingFor('k').total_tokens));
    meter.record('k', { requests: 1, prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 });
    expect(meter.pendingFor('k').total_tokens).toBe(12);
    release();
    await flushing;
    // When applied, the written batch is still counted (the caller adds it to the cache now) ...
    expect(seen).toEqual([12]);
    // ... and afterwards only the part not yet written is pending.
    expect(meter.pendingFor('k').total_tokens).toBe(2);
  });
});
