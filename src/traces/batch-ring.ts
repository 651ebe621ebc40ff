import { aligned } from './trace-wire';

/**
 * Shared memory for trace batches on their way to the worker: the writer packs a batch straight
 * into a region of one SharedArrayBuffer and posts a view of it, which the worker reads in place
 * (posting shares the memory instead of copying it). A region is freed once the worker reports
 * its batch stored; batches are stored in the order they were sent, so regions are freed oldest
 * first and the free space is one run that wraps around the end. Until then the bytes stay here,
 * so a worker that dies is handed the same regions again. A batch that does not fit is left to the
 * caller (BatchRings below adds rings).
 */
export class BatchRing {
  readonly buffer: SharedArrayBuffer;
  private readonly regions: Array<{ at: number; size: number }> = [];
  /** Where the next region starts. */
  private head = 0;
  /** The newest region starts before the oldest one (the ring has wrapped around). */
  private wrapped = false;
  private usedBytes = 0;

  constructor(readonly size: number) {
    this.buffer = new SharedArrayBuffer(size);
  }

  /**
   * Room for `size` bytes after the regions in use, or null when there is none. Every region
   * starts at a multiple of ALIGN (sizes are rounded up to one), so that copies into it can be
   * word-aligned (trace-wire.ts).
   */
  reserve(bytes: number): Buffer | null {
    const size = aligned(bytes);
    if (bytes <= 0 || size > this.size) return null;
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
    this.usedBytes += size;
    return Buffer.from(this.buffer, at, bytes);
  }

  /** Frees the oldest region still in use. */
  releaseOldest(): void {
    const gone = this.regions.shift();
    if (!gone) return;
    this.usedBytes -= gone.size;
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
    return this.usedBytes;
  }
}

/** Page size assumed by touchPages (where pages are larger, more touches than needed). */
const PAGE_BYTES = 4096;

/**
 * Faults every page of `buffer` in (a write to each), keeping its contents: a compare-exchange of
 * 0 for 0 stores nothing new and cannot lose a write made at the same time by another thread, so
 * a ring that is already in use can be touched. Memory touched for the first time costs a page
 * fault per page (2–10 µs each on a virtual machine); the trace worker pays it for a ring made
 * ahead of need, instead of the main thread packing batches into it under load.
 */
export function touchPages(buffer: SharedArrayBuffer): void {
  const words = new Int32Array(buffer, 0, buffer.byteLength >> 2);
  for (let i = 0; i < words.length; i += PAGE_BYTES / 4) Atomics.compareExchange(words, i, 0, 0);
}

/**
 * Rings of `segmentBytes` each, up to `maxBytes` in all: a backlog that fills the first ring gets
 * another one instead of batches of their own. Every ring but the first is let go once it has
 * been empty for `idleMs`. Memory touched for the first time costs a page fault per page, so the
 * next ring is made ahead of need, once the rings in use are more than half full, and handed to
 * `prepare` (the writer has the trace worker touch its pages: touchPages); `warm()` does the same
 * for the first ring. A spare ring not taken into use within `idleMs` is let go as well. Each ring
 * frees its regions oldest first: batches are stored in the order they were sent, and the batches
 * of one ring are a part of that order.
 */
export class BatchRings {
  private readonly rings: BatchRing[] = [];
  /** When each ring last became empty (0: in use). */
  private readonly emptySince: number[] = [];
  /** The next ring, made ahead of need, and when it was made. */
  private spare: { ring: BatchRing; since: number } | null = null;

  constructor(
    readonly segmentBytes: number,
    readonly maxBytes: number,
    private readonly idleMs = 30_000,
    private readonly now: () => number = Date.now,
    private readonly prepare: ((buffer: SharedArrayBuffer) => void) | null = null,
  ) {}

  /** Makes the first ring now (before the first batch) and hands it to `prepare`. */
  warm(): void {
    if (this.rings.length === 0 && !this.spare) this.makeSpare();
  }

  /** Room for `size` bytes in the first ring that has it (the spare, or a new ring, when none has), or null. */
  reserve(size: number): Buffer | null {
    for (let i = 0; i < this.rings.length; i++) {
      const region = this.rings[i]!.reserve(size);
      if (region) {
        this.emptySince[i] = 0;
        this.spareIfDue();
        return region;
      }
    }
    if (size > this.segmentBytes) return null;
    let ring: BatchRing;
    if (this.spare) {
      ring = this.spare.ring;
      this.spare = null;
    } else if (this.heldBytes() + this.segmentBytes <= this.maxBytes) {
      ring = new BatchRing(this.segmentBytes);
    } else return null;
    this.rings.push(ring);
    this.emptySince.push(0);
    const region = ring.reserve(size);
    this.spareIfDue();
    return region;
  }

  /** Whether `bytes` is a region of one of these rings. */
  owns(bytes: Uint8Array): boolean {
    return this.rings.some((r) => r.buffer === bytes.buffer);
  }

  /** Frees the region `bytes` (the oldest one still in use in its ring). */
  release(bytes: Uint8Array): void {
    const i = this.rings.findIndex((r) => r.buffer === bytes.buffer);
    if (i < 0) return;
    const ring = this.rings[i]!;
    ring.releaseOldest();
    const now = this.now();
    if (ring.used() === 0) this.emptySince[i] = now;
    // Rings past the first that have stayed empty long enough are let go, and so is a spare.
    for (let j = this.rings.length - 1; j > 0; j--) {
      const since = this.emptySince[j]!;
      if (since > 0 && now - since >= this.idleMs) {
        this.rings.splice(j, 1);
        this.emptySince.splice(j, 1);
      }
    }
    if (this.spare && now - this.spare.since >= this.idleMs && !this.overHalf()) this.spare = null;
  }

  /** Rings in use, bytes in use across them, and whether a spare ring is held. */
  stats(): { rings: number; used: number; spare: boolean } {
    return { rings: this.rings.length, used: this.usedBytes(), spare: this.spare !== null };
  }

  private usedBytes(): number {
    let n = 0;
    for (const r of this.rings) n += r.used();
    return n;
  }

  /** Whether the rings in use are more than half full. */
  private overHalf(): boolean {
    return this.usedBytes() * 2 > this.rings.length * this.segmentBytes;
  }

  /** Bytes of shared memory held: the rings and the spare. */
  private heldBytes(): number {
    return (this.rings.length + (this.spare ? 1 : 0)) * this.segmentBytes;
  }

  /** A spare ring once the rings in use are more than half full (with room for one under maxBytes). */
  private spareIfDue(): void {
    if (this.spare || !this.prepare || !this.overHalf()) return;
    if (this.heldBytes() + this.segmentBytes > this.maxBytes) return;
    this.makeSpare();
  }

  private makeSpare(): void {
    const ring = new BatchRing(this.segmentBytes);
    this.spare = { ring, since: this.now() };
    try {
      this.prepare?.(ring.buffer);
    } catch {
      // not prepared: its pages fault in when it is used, as any new ring's
    }
  }
}
