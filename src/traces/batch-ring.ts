/**
 * Shared memory for trace batches on their way to the worker: the writer packs a batch straight
 * into a region of one SharedArrayBuffer and posts a view of it, which the worker reads in place
 * (posting shares the memory instead of copying it). A region is freed once the worker reports
 * its batch stored; batches are stored in the order they were sent, so regions are freed oldest
 * first and the free space is one run that wraps around the end. Until then the bytes stay here,
 * so a worker that dies is handed the same regions again. A batch that does not fit (a backlog
 * past the ring's size) is left to the caller to keep elsewhere.
 */
export class BatchRing {
  readonly buffer: SharedArrayBuffer;
  private readonly regions: Array<{ at: number; size: number }> = [];
  /** Where the next region starts. */
  private head = 0;
  /** The newest region starts before the oldest one (the ring has wrapped around). */
  private wrapped = false;

  constructor(readonly size: number) {
    this.buffer = new SharedArrayBuffer(size);
  }

  /** Room for `size` bytes after the regions in use, or null when there is none. */
  reserve(size: number): Buffer | null {
    if (size <= 0 || size > this.size) return null;
    let at: number;
    const oldest = this.regions[0];
    if (!oldest) {
      at = 0;
    } else if (!this.wrapped) {
      if (this.head + size <= this.size) at = this.head;
      else if (size <= oldest.at) {
        at = 0;
        this.wrapped = true;
      } else return null;
    } else if (this.head + size <= oldest.at) {
      at = this.head;
    } else return null;
    this.regions.push({ at, size });
    this.head = at + size;
    return Buffer.from(this.buffer, at, size);
  }

  /** Frees the oldest region still in use. */
  releaseOldest(): void {
    const gone = this.regions.shift();
    if (!gone) return;
    const oldest = this.regions[0];
    if (!oldest) {
      this.head = 0;
      this.wrapped = false;
    } else if (oldest.at < gone.at) {
      // The oldest region is now one written after the wrap: the run is unbroken again.
      this.wrapped = false;
    }
  }

  /** Bytes in use. */
  used(): number {
    let n = 0;
    for (const r of this.regions) n += r.size;
    return n;
  }
}
