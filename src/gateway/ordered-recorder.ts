/**
 * Keeps the promise of `CallRecord.sessionOf`: a record that joins another trace's session reaches
 * the recorder after the trace it names. The gateway announces a parent (`expect`) before it starts
 * a call that will join it (an image description); records naming an announced parent are held
 * until the parent's own record has been handed on, then follow it in the order they ended.
 * Records naming a parent that was never announced, or is already recorded, pass straight through.
 */
import type { CallRecord, CallRecorder } from './call-record';

/** Parents waited on at once; beyond this, the oldest one's held records are let go. */
const DEFAULT_MAX_PARENTS = 10_000;

export class OrderedRecorder implements CallRecorder {
  private readonly held = new Map<string, CallRecord[]>();

  constructor(
    private readonly inner: CallRecorder,
    private readonly maxParents = DEFAULT_MAX_PARENTS,
  ) {}

  /** Records naming `parentId` in `sessionOf` wait for the parent's own record from now on. */
  expect(parentId: string): void {
    if (this.held.has(parentId)) return;
    // a parent whose record never came (a bug elsewhere) must not hold its children forever
    while (this.held.size >= this.maxParents) {
      const oldest = this.held.keys().next();
      if (oldest.done) break;
      this.release(oldest.value);
    }
    this.held.set(parentId, []);
  }

  /** Parents currently waited on (for tests and diagnostics). */
  get waiting(): number {
    return this.held.size;
  }

  record(rec: CallRecord): void {
    const wait = rec.sessionOf === null || this.held.size === 0 ? undefined : this.held.get(rec.sessionOf);
    if (wait) {
      wait.push(rec);
      return;
    }
    this.inner.record(rec);
    if (this.held.size !== 0) this.release(rec.id);
  }

  private release(parentId: string): void {
    const children = this.held.get(parentId);
    if (children === undefined) return;
    this.held.delete(parentId);
    // a child may itself be a parent (a description that needed descriptions)
    for (const child of children) this.record(child);
  }
}
