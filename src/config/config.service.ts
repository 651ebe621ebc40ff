/**
 * The live config. Callers take `current` once per request, so in-flight requests finish on the
 * config they started with. `watch()` applies valid edits within 2 s; an invalid edit is refused,
 * logged, and the running config stays.
 */
import { watch as fsWatch, readFileSync, statSync, type FSWatcher } from 'node:fs';
import { createHash } from 'node:crypto';
import { basename, dirname } from 'node:path';
import type { LoadedConfig } from './config.loader';

export interface ConfigLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

function digest(path: string): string | null {
  try {
    return createHash('sha256').update(readFileSync(path)).digest('hex');
  } catch {
    return null;
  }
}

/** Changes when the file is written or replaced (rename-on-save gives a new inode). */
function statKey(path: string): string | null {
  try {
    const s = statSync(path);
    return `${s.mtimeMs}:${s.size}:${s.ino}`;
  } catch {
    return null;
  }
}

const POLL_MS = 1000;
const DEBOUNCE_MS = 150;

export class ConfigService {
  private snapshot: LoadedConfig;
  private readonly listeners: Array<(c: LoadedConfig) => void> = [];
  private watcher: FSWatcher | null = null;
  private poller: NodeJS.Timeout | null = null;
  private seenStat: string | null;
  private missingLogged = false;
  private debounce: NodeJS.Timeout | null = null;
  private lastDigest: string | null;

  constructor(
    initial: LoadedConfig,
    private readonly logger: ConfigLogger,
    private readonly reload: () => LoadedConfig,
  ) {
    this.snapshot = initial;
    this.lastDigest = digest(initial.path);
    this.seenStat = statKey(initial.path);
  }

  get current(): LoadedConfig {
    return this.snapshot;
  }

  get path(): string {
    return this.snapshot.path;
  }

  /** Calls `cb` with each newly applied config; returns a function that unsubscribes. */
  onChange(cb: (c: LoadedConfig) => void): () => void {
    this.listeners.push(cb);
    return () => {
      const i = this.listeners.indexOf(cb);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  /** Re-reads the file now; returns true when a new config was applied. */
  refresh(): boolean {
    const d = digest(this.path);
    if (d === null) {
      // Editors that save by rename leave the file missing for a moment; say so once.
      if (!this.missingLogged)
        this.logger.warn({ path: this.path }, 'config file unreadable; the running config stays');
      this.missingLogged = true;
      return false;
    }
    this.missingLogged = false;
    if (d === this.lastDigest) return false;
    this.lastDigest = d;
    try {
      const next = this.reload();
      this.snapshot = next;
      this.logger.info({ path: this.path }, 'config reloaded');
      for (const cb of [...this.listeners]) {
        try {
          cb(next);
        } catch (err) {
          this.logger.error({ err }, 'config change listener failed');
        }
      }
      return true;
    } catch (err) {
      this.logger.warn(
        { path: this.path, error: err instanceof Error ? err.message : String(err) },
        'config edit refused; the running config stays',
      );
      return false;
    }
  }

  /** Starts watching: fs.watch on the folder, plus a 1 s stat poll for file systems where it is silent. */
  watch(): void {
    if (this.poller) return;
    const schedule = (): void => {
      if (!this.poller) return; // closed
      if (this.debounce) clearTimeout(this.debounce);
      this.debounce = setTimeout(() => {
        this.debounce = null;
        this.refresh();
      }, DEBOUNCE_MS);
      this.debounce.unref();
    };
    // The poll compares with the stat taken when the config was loaded, so an edit made at once is seen.
    this.poller = setInterval(() => {
      const key = statKey(this.path);
      if (key === this.seenStat) return;
      this.seenStat = key;
      schedule();
    }, POLL_MS);
    this.poller.unref();
    try {
      const file = basename(this.path);
      this.watcher = fsWatch(dirname(this.path), { persistent: false }, (_event, name) => {
        if (!name || name === file) schedule();
      });
      this.watcher.on('error', () => {
        // The folder went away or cannot be watched any more: the poll carries on alone.
        this.watcher?.close();
        this.watcher = null;
      });
    } catch {
      this.watcher = null;
    }
  }

  close(): void {
    this.watcher?.close();
    this.watcher = null;
    if (this.poller) clearInterval(this.poller);
    this.poller = null;
    if (this.debounce) clearTimeout(this.debounce);
    this.debounce = null;
  }
}
