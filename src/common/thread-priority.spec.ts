import { readdirSync, readFileSync } from 'node:fs';
import { getPriority } from 'node:os';
import { Worker } from 'node:worker_threads';
import { lowerThreadPriority } from './thread-priority';

/** Nice value of every thread of this process, by thread id (Linux). */
function niceByThread(): Map<number, number> {
  const out = new Map<number, number>();
  for (const t of readdirSync('/proc/self/task')) {
    const fields = readFileSync(`/proc/self/task/${t}/stat`, 'utf8').split(') ')[1]!.split(' ');
    out.set(Number(t), Number(fields[16]));
  }
  return out;
}

const linux = process.platform === 'linux' ? it : it.skip;

describe('lowerThreadPriority', () => {
  it('does nothing on the main thread or off Linux', () => {
    expect(lowerThreadPriority(5)).toBeNull();
    expect(lowerThreadPriority(5, 'darwin')).toBeNull();
    expect(getPriority(process.pid)).toBe(0);
  });

  linux('lowers a worker thread only, leaving the process and its other threads as they were', async () => {
    const before = niceByThread();
    const script = `
      const { parentPort } = require('node:worker_threads');
      require('ts-node/register/transpile-only');
      const { lowerThreadPriority } = require(${JSON.stringify(require.resolve('./thread-priority'))});
      const tid = Number(require('node:fs').readlinkSync('/proc/thread-self').split('/').pop());
      parentPort.postMessage({ tid, nice: lowerThreadPriority(7), again: lowerThreadPriority(3) });
      setTimeout(() => {}, 300);
    `;
    const w = new Worker(script, { eval: true });
    const got = await new Promise<{ tid: number; nice: number; again: number }>((ok) =>
      w.once('message', ok),
    );
    expect(got.nice).toBe(7);
    // Never raised back.
    expect(got.again).toBe(7);
    const during = niceByThread();
    expect(during.get(got.tid)).toBe(7);
    for (const [tid, nice] of before) if (during.has(tid)) expect(during.get(tid)).toBe(nice);
    expect(getPriority(process.pid)).toBe(0);
    await w.terminate();
  });
});
