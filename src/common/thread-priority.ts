/**
 * Background threads (the trace writer and reader) lower their own scheduling priority, so that
 * when the machine is short of CPU the proxy's event loop is served first and trace work takes
 * what is left. Linux only: there a nice value belongs to a thread, and the thread's id comes
 * from /proc/thread-self; elsewhere setpriority would move the whole process, so nothing is done.
 */
import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/** Nice value of the trace worker threads (0 = as the proxy, 19 = lowest). */
export const TRACE_THREAD_NICE = 19;

/** Lowers the calling thread to `nice` (never raises it); returns the value it now runs at, or null. */
export function lowerThreadPriority(nice: number, platform: string = process.platform): number | null {
  if (platform !== 'linux') return null;
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    // The main thread's id is the process id: this is for other threads only.
    if (!Number.isInteger(tid) || tid <= 0 || tid === process.pid) return null;
    const current = getPriority(tid);
    if (current < nice) setPriority(tid, nice);
    return getPriority(tid);
  } catch {
    return null;
  }
}
