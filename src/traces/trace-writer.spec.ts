import { performance } from 'node:perf_hooks';
import { callRecord } from '../../test/support/call-records';
import type { TraceDraft } from './trace-builder';
import type { TraceSink } from './trace-pipeline';
import type { StoredTrace } from './trace-store';
import { inlineLink, type LinkFactory, type ToWorker } from './trace-worker-link';
import { TraceWriter } from './trace-writer';

const quiet = { warn: () => undefined, error: () => undefined };

class FakeSink implements TraceSink {
  stored: TraceDraft[] = [];
  batches: number[] = [];
  down = false;
  poison = new Set<string>();

  async insertBatch(batch: Iterable<TraceDraft>): Promise<StoredTrace[]> {
    const drafts = [...batch];
    if (this.down) throw new Error('connection refused');
    if (drafts.some((d) => this.poison.has(d.id))) throw new Error('constraint failed');
    this.batches.push(drafts.length);
    this.stored.push(...drafts);
    return drafts.map((d) => ({ id: d.id, session_id: d.id, turn: 1 }));
  }

  async ping(): Promise<boolean> {
    return !this.down;
  }

  pruned: number[] = [];

  async prune(cutoff: number): Promise<number> {
    this.pruned.push(cutoff);
    return 0;
  }

  existing(ids: readonly string[]): Set<string> {
    const stored = new Set(this.stored.map((d) => d.id));
    return new Set(ids.filter((id) => stored.has(id)));
  }
}

function writer(
  sink: FakeSink,
  over: Partial<ConstructorParameters<typeof TraceWriter>[1]> = {},
  batchSize = 200,
): TraceWriter {
  return new TraceWriter(inlineLink(sink, { batchSize, maxBackoffMs: 10 }), {
    enabled: () => true,
    storeBodies: () => true,
    jsonl: () => undefined,
    intervalMs: 1,
    logger: quiet,
    ...over,
  });
}

const rec = (text = 'hi') => callRecord([{ role: 'user', content: text }], 'ok');

describe('TraceWriter', () => {
  it('queues without writing in record(), then writes transactions of at most the batch size', async () => {
    const sink = new FakeSink();
    const w = writer(sink);
    for (let i = 0; i < 450; i++) w.record(rec());
    expect(sink.stored).toHaveLength(0);
    expect(w.queueDepth()).toBe(450);
    await w.flush();
    expect(sink.stored).toHaveLength(450);
    expect(Math.max(...sink.batches)).toBeLessThanOrEqual(200);
    expect(w.queueDepth()).toBe(0);
    expect(w.writtenTotal()).toBe(450);
  });

  it('tells when its worker runs, and gives up waiting after the timeout', async () => {
    const w = writer(new FakeSink());
    expect(await w.ready(50)).toBe(false); // not started
    w.start();
    expect(await w.ready(5000)).toBe(true);
    expect(await w.ready(1)).toBe(true);
    await w.close();
  });

  it('counts what a full queue had to drop', async () => {
    const sink = new FakeSink();
    const w = writer(sink, { maxQueue: 3 });
    for (let i = 0; i < 5; i++) w.record(rec());
    expect(w.queueDepth()).toBe(3);
    expect(w.droppedTotal()).toBe(2);
    await w.flush();
    expect(sink.stored).toHaveLength(3);
  });

  it('bounds the bytes it holds too: past maxQueueBytes records are dropped and counted', async () => {
    const sink = new FakeSink();
    sink.down = true;
    const w = writer(sink, { maxQueueBytes: 8 * 1024 });
    const big = 'y'.repeat(1500);
    for (let i = 0; i < 20; i++) {
      w.record(rec(`${i} ${big}`));
      await new Promise((r) => setTimeout(r, 2));
    }
    const held = w.queueDepth();
    // A record's request travels as its bytes (~1.6 KB here): about five fit, the rest are dropped.
    expect(held).toBeGreaterThanOrEqual(3);
    expect(held).toBeLessThanOrEqual(7);
    expect(w.droppedTotal()).toBe(20 - held);
    sink.down = false;
    await w.flush();
    expect(sink.stored).toHaveLength(held);
    // Room again once they are stored.
    w.record(rec('later'));
    await w.flush();
    expect(sink.stored).toHaveLength(held + 1);
  });

  describe('while the event loop is saturated', () => {
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

    it('the worker holds its writes, and writes once the loop is no longer saturated', async () => {
      const sink = new FakeSink();
      let busy = 1;
      const w = writer(sink, { loopBusy: () => busy });
      for (let i = 0; i < 4; i++) {
        w.record(rec(`busy ${i}`));
        await sleep(20);
      }
      expect(sink.stored).toHaveLength(0);
      expect(w.queueDepth()).toBe(4);
      busy = 0.2;
      w.record(rec('quiet 1')); // the average over the batches: 0.76, still held
      await sleep(20);
      expect(sink.stored).toHaveLength(0);
      w.record(rec('quiet 2')); // 0.59: released
      await sleep(60);
      expect(sink.stored.map((d) => (d.request as { messages: Array<{ content: string }> }).messages[0]!.content)).toEqual(
        ['busy 0', 'busy 1', 'busy 2', 'busy 3', 'quiet 1', 'quiet 2'],
      );
    });

    it('holds from the first batch of a burst that follows an idle spell (the loop measured while that batch gathered)', async () => {
      const sink = new FakeSink();
      const w = writer(sink, { intervalMs: 20 }); // the event loop's own utilisation, from perf_hooks
      w.record(rec('before'));
      await sleep(300); // stored; then the loop idles
      expect(sink.stored).toHaveLength(1);
      const until = performance.now() + 80;
      for (let i = 0; i < 3; i++) w.record(rec(`burst ${i}`));
      while (performance.now() < until) {
        // the event loop saturated: the batch's send is due meanwhile
      }
      await sleep(40);
      expect(sink.stored).toHaveLength(1); // held: busy since the burst's first record
      await sleep(300);
      expect(sink.stored).toHaveLength(4);
    });

    it('a hold goes on through a dip while the loop stays busy on average, and ends once it is quiet', async () => {
      const sink = new FakeSink();
      const shares = [1, 1, 0.3, 1, 0.3, 0.3];
      let at = 0;
      const w = writer(sink, { loopBusy: () => shares[Math.min(at++, shares.length - 1)]! });
      const batch = async (text: string): Promise<void> => {
        w.record(rec(text));
        await sleep(15); // sent on its own (intervalMs 1), renewing the hold well within HOLD_MS
      };
      for (const t of ['a', 'b', 'dip', 'c']) await batch(t);
      expect(at).toBe(4);
      expect(sink.stored).toHaveLength(0); // the dip (0.3) did not end the hold: the average is 0.79
      await batch('quiet 1'); // average 0.69: still held
      expect(sink.stored).toHaveLength(0);
      await batch('quiet 2'); // average 0.57: released, and the backlog is written
      await sleep(40);
      expect(sink.stored.map((d) => (d.request as { messages: Array<{ content: string }> }).messages[0]!.content)).toEqual(
        ['a', 'b', 'dip', 'c', 'quiet 1', 'quiet 2'],
      );
    });

    it('a loop busy below the threshold does not start a hold', async () => {
      const sink = new FakeSink();
      const w = writer(sink, { loopBusy: () => 0.85 });
      w.record(rec());
      await sleep(40);
      expect(sink.stored).toHaveLength(1);
    });

    it('a hold ends on its own when no batch renews it', async () => {
      const sink = new FakeSink();
      const w = writer(sink, { loopBusy: () => 1 });
      for (let i = 0; i < 3; i++) w.record(rec());
      await sleep(30);
      expect(sink.stored).toHaveLength(0);
      await sleep(250);
      expect(sink.stored).toHaveLength(3);
    });

    it('no hold once the backlog reaches half the queue', async () => {
      const sink = new FakeSink();
      const w = writer(sink, { loopBusy: () => 1, maxQueue: 10 });
      for (let i = 0; i < 4; i++) {
        w.record(rec());
        await sleep(5);
      }
      await sleep(40);
      expect(sink.stored).toHaveLength(0);
      w.record(rec()); // the fifth: its batch does not ask for a hold
      await sleep(40);
      expect(sink.stored).toHaveLength(5);
      expect(w.droppedTotal()).toBe(0);
    });

    it('a flush writes everything anyway', async () => {
      const sink = new FakeSink();
      const w = writer(sink, { loopBusy: () => 1 });
      for (let i = 0; i < 3; i++) w.record(rec());
      await sleep(10);
      const t = Date.now();
      await w.flush();
      expect(sink.stored).toHaveLength(3);
      expect(Date.now() - t).toBeLessThan(90);
    });
  });

  it('never throws from record(), even when the config cannot be read', () => {
    const w = writer(new FakeSink(), {
      enabled: () => {
        throw new Error('no config yet');
      },
    });
    expect(() => w.record(rec())).not.toThrow();
    expect(w.droppedTotal()).toBe(1);
  });

  it('holds traces while the database is down, retries with backoff, loses none', async () => {
    const sink = new FakeSink();
    sink.down = true;
    const w = writer(sink);
    for (let i = 0; i < 10; i++) w.record(rec());
    await new Promise((r) => setTimeout(r, 50));
    expect(w.queueDepth()).toBe(10);
    expect(w.droppedTotal()).toBe(0);
    sink.down = false;
    await w.flush();
    expect(sink.stored).toHaveLength(10);
  });

  it('packs batches into shared rings (more rings for a backlog), into buffers of their own when a batch is larger than a ring; loses none', async () => {
    for (const ringBytes of [0, 2 * 1024, 6 * 1024, 32 * 1024 * 1024]) {
      const sink = new FakeSink();
      sink.down = true;
      const w = writer(sink, { ringBytes }, 7);
      const texts = Array.from({ length: 120 }, (_, i) => `message ${i} ${'x'.repeat(i * 7)}`);
      for (let i = 0; i < texts.length; i++) {
        w.record(rec(texts[i]));
        // Batches leave one after another while the database is down: they pile up in flight.
        if (i % 10 === 9) await new Promise((r) => setTimeout(r, 5));
      }
      await new Promise((r) => setTimeout(r, 30));
      sink.down = false;
      // Freed regions are reused for later batches while earlier ones are still being written.
      for (let i = 0; i < 40; i++) w.record(rec(`after ${i}`));
      await w.flush();
      const contents = sink.stored.map((d) => (d.request as { messages: Array<{ content: string }> }).messages[0]!.content);
      expect({ ringBytes, contents }).toEqual({ ringBytes, contents: [...texts, ...Array.from({ length: 40 }, (_, i) => `after ${i}`)] });
      expect(w.droppedTotal()).toBe(0);
      expect(w.queueDepth()).toBe(0);
    }
  });

  it('has the worker fault in the first ring at start, and the next ring ahead of a backlog; the batches go into those rings', async () => {
    const sink = new FakeSink();
    const posted: ToWorker[] = [];
    const inner = inlineLink(sink, { batchSize: 7, maxBackoffMs: 10 });
    const spy: LinkFactory = (handlers) => {
      const link = inner(handlers);
      return {
        post: (m) => {
          posted.push(m);
          link.post(m);
        },
      };
    };
    const w = new TraceWriter(spy, {
      enabled: () => true,
      storeBodies: () => true,
      jsonl: () => undefined,
      intervalMs: 1,
      logger: quiet,
      ringBytes: 8 * 1024,
    });
    w.start();
    const prefaults = (): SharedArrayBuffer[] =>
      posted.flatMap((m) => (m.type === 'prefault' ? [m.buffer] : []));
    const batchBuffers = (): ArrayBufferLike[] => posted.flatMap((m) => (m.type === 'batch' ? [m.bytes.buffer] : []));
    expect(prefaults()).toHaveLength(1);
    expect(prefaults()[0]!.byteLength).toBe(8 * 1024);
    sink.down = true;
    const texts = Array.from({ length: 60 }, (_, i) => `message ${i} ${'y'.repeat(100)}`);
    for (let i = 0; i < texts.length; i++) {
      w.record(rec(texts[i]));
      if (i % 5 === 4) await new Promise((r) => setTimeout(r, 3));
    }
    await new Promise((r) => setTimeout(r, 20));
    // The first batch went into the ring faulted in at start; the backlog reached a spare ring.
    expect(batchBuffers()[0]).toBe(prefaults()[0]);
    expect(prefaults().length).toBeGreaterThan(1);
    expect(batchBuffers()).toContain(prefaults()[1]);
    sink.down = false;
    await w.flush();
    expect(sink.stored.map((d) => (d.request as { messages: Array<{ content: string }> }).messages[0]!.content)).toEqual(texts);
    await w.close();
  });

  it('drops only the trace the database refuses, when the database answers', async () => {
    const sink = new FakeSink();
    const w = writer(sink);
    const bad = rec('bad');
    sink.poison.add(bad.id);
    const good = [rec('a'), rec('b')];
    w.record(good[0]!);
    w.record(bad);
    w.record(good[1]!);
    await w.flush();
    expect(sink.stored.map((d) => d.id)).toEqual(good.map((g) => g.id));
    expect(w.droppedTotal()).toBe(1);
    expect(w.queueDepth()).toBe(0);
  });

  it('reports each stored trace to onStored, with its session and turn', async () => {
    const sink = new FakeSink();
    const seen: Array<{ id: string; session_id: string; turn: number; model: string | null }> = [];
    const w = writer(sink, { onStored: (t) => seen.push(t) });
    const a = rec('one');
    const b = callRecord([{ role: 'user', content: 'two' }], 'ok', { keyId: 'key_7', model: 'm-2' });
    w.record(a);
    w.record(b);
    await w.flush();
    expect(seen.map((t) => [t.id, t.session_id, t.turn])).toEqual([
      [a.id, a.id, 1],
      [b.id, b.id, 1],
    ]);
    expect(seen[1]).toMatchObject({ keyId: 'key_7', model: 'm-2', status: 'success' });
  });

  it('records nothing when traces are disabled', async () => {
    const sink = new FakeSink();
    const w = writer(sink, { enabled: () => false });
    w.record(rec());
    await w.flush();
    expect(sink.stored).toHaveLength(0);
    expect(w.droppedTotal()).toBe(0);
  });
});
