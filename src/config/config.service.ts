/**
 * The live config. Callers take `current` once per request, so in-flight requests finish on the
 * config they started with. `watch()` applies valid edits within 2 s; an invalid edit is refused,
 * logged, and the running config stays.
 */
import { watch as fsWatch, watchFile, unwatchFile, readFileSync, type FSWatcher } from 'node:fs';
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

export class ConfigService {
  private snapshot: LoadedConfig;
  private readonly listeners: Array<(c: LoadedConfig) => void> = [];
  private watcher: FSWatcher | null = null;
  private polling = false;
  private debounce: NodeJS.Timeout | null = null;
  private lastDigest: string | null;

  constructor(
    initial: LoadedConfig,
    private readonly logger: ConfigLogger,
    private readonly reload: () => LoadedConfig,
  ) {
    this.snapshot = initial;
    this.lastDigest = digest(initial.path);
  }

  get current(): LoadedConfig {
    return this.snapshot;
  }

  get path(): string {
    return this.snapshot.path;
  }

  onChange(cb: (c: LoadedConfig) => void): void {
    this.listeners.push(cb);
  }

  /** Re-reads the file now; returns true when a new config was applied. */
  refresh(): boolean {
    const d = digest(this.path);
    if (d === null || d === this.lastDigest) return false;
    this.lastDigest = d;
    try {
      const next = this.reload();
      this.snapshot = next;
      this.logger.info({ path: this.path }, 'config reloaded');
      for (const cb of this.listeners) {
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

  watch(): void {
    if (this.watcher || this.polling) return;
    const schedule = (): void => {
      if (this.debounce) clearTimeout(this.debounce);
      this.debounce = setTimeout(() => {
        this.debounce = null;
        this.refresh();
      }, 150);
      this.debounce.unref();
    };
    try {
      const file = basename(this.path);
      this.watcher = fsWatch(dirname(this.path), (_event, name) => {
        if (!name || name === file) schedule();
      });
      this.watcher.unref();
      this.watcher.on('error', () => undefined);
    } catch {
      this.watcher = null;
    }
    // Polling as well: some file systems and editors (rename-on-save) slip past fs.watch.
    watchFile(this.path, { interval: 1000, persistent: false }, schedule);
    this.polling = true;
  }

  close(): void {
    this.watcher?.close();
    this.watcher = null;
    if (this.polling) unwatchFile(this.path);
    this.polling = false;
    if (this.debounce) clearTimeout(this.debounce);
    this.debounce = null;
  }
}
