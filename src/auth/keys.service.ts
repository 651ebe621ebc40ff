/**
 * Client key management (SPEC §4): create, list, read, change, rotate and revoke keys, keep the
 * in-memory key cache current, and write usage to the database in batches.
 */
import { GatewayError } from '../common/errors';
import type { KeyCache } from './key-cache';
import type { KeyEvent, KeyEvents } from './key-events';
import { addUsage, emptyUsage, type KeyChanges, type KeyRecord } from './key-record';
import type { KeyPage, KeyRepository } from './key.repository';
import { displayParts, generateClientKey, hashSecret, KEY_PREFIX, newKeyId } from './key-format';
import type { UsageMeter } from './usage-meter';

export interface KeyLimitsInput {
  models?: string[] | null;
  rpm?: number | null;
  tpm?: number | null;
  max_tokens_total?: number | null;
  /** ISO 8601 time, or null for no expiry. */
  expires_at?: string | null;
  metadata?: Record<string, unknown> | null;
}

export interface CreateKeyInput extends KeyLimitsInput {
  name: string;
}

export interface UpdateKeyInput extends KeyLimitsInput {
  name?: string;
  enabled?: boolean;
}

export interface IssuedKey {
  record: KeyRecord;
  /** The secret: returned once, never stored. */
  key: string;
}

export interface KeysServiceOptions {
  repo: KeyRepository;
  cache: KeyCache;
  meter: UsageMeter;
  events: KeyEvents;
  now?: () => number;
  onError?: (err: unknown, during: string) => void;
}

export const MAX_PAGE = 200;

export class KeysService {
  private readonly repo: KeyRepository;
  private readonly cache: KeyCache;
  private readonly meter: UsageMeter;
  private readonly events: KeyEvents;
  private readonly now: () => number;
  private readonly onError: (err: unknown, during: string) => void;
  /** Flushes and refreshes run one after the other, so a refresh never races a usage write. */
  private chain: Promise<void> = Promise.resolve();
  private timers: NodeJS.Timeout[] = [];

  constructor(options: KeysServiceOptions) {
    this.repo = options.repo;
    this.cache = options.cache;
    this.meter = options.meter;
    this.events = options.events;
    this.now = options.now ?? Date.now;
    this.onError = options.onError ?? (() => undefined);
  }

  /** Loads every key into memory, follows other replicas' changes, and starts the timers. */
  async start(
    intervals: { flushMs: number; refreshMs: number } = { flushMs: 1000, refreshMs: 30_000 },
  ): Promise<void> {
    this.cache.load(await this.repo.findActive());
    await this.events.subscribe((event) => this.onEvent(event));
    const flush = setInterval(
      () => void this.flushUsage().catch((err) => this.onError(err, 'usage flush')),
      intervals.flushMs,
    );
    const refresh = setInterval(
      () => void this.refresh().catch((err) => this.onError(err, 'key refresh')),
      intervals.refreshMs,
    );
    flush.unref();
    refresh.unref();
    this.timers.push(flush, refresh);
  }

  /** Stops the timers and writes the usage still pending. */
  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    await this.flushUsage();
    await this.events.close();
  }

  async create(input: CreateKeyInput): Promise<IssuedKey> {
    const now = this.now();
    const key = generateClientKey();
    const record: KeyRecord = {
      id: newKeyId(now),
      name: input.name,
      keyHash: hashSecret(key),
      keyPrefix: KEY_PREFIX,
      last4: displayParts(key).last4,
      previousKeyHash: null,
      previousValidUntil: null,
      models: normaliseModels(input.models),
      rpm: input.rpm ?? null,
      tpm: input.tpm ?? null,
      maxTokensTotal: input.max_tokens_total ?? null,
      expiresAt: this.expiry(input.expires_at, now) ?? null,
      enabled: true,
      metadata: input.metadata ?? null,
      createdAt: now,
      updatedAt: now,
      revokedAt: null,
      usage: emptyUsage(),
    };
    await this.repo.insert(record);
    this.cache.upsert(record);
    await this.events.publish({ type: 'changed', id: record.id });
    return { record, key };
  }

  async list(limit: number, cursor: string | null): Promise<KeyPage> {
    return this.repo.page(Math.min(Math.max(1, limit), MAX_PAGE), cursor);
  }

  /** One key with its usage, including counts not yet written to the database. */
  get(id: string): Promise<KeyRecord> {
    return this.withUsage(id);
  }

  /**
   * The stored record plus the usage not yet written, read between two usage flushes (they run on
   * the same chain): a flush landing between the database read and the in-memory read would
   * otherwise leave its counts in neither.
   */
  private withUsage(id: string): Promise<KeyRecord> {
    return this.serial(async () => {
      const record = await this.found(id);
      return { ...record, usage: addUsage(record.usage, this.meter.pendingFor(id)) };
    });
  }

  async update(id: string, input: UpdateKeyInput): Promise<KeyRecord> {
    await this.found(id);
    const now = this.now();
    const changes: KeyChanges = { updatedAt: now };
    if (input.name !== undefined) changes.name = input.name;
    if (input.models !== undefined) changes.models = normaliseModels(input.models);
    if (input.rpm !== undefined) changes.rpm = input.rpm;
    if (input.tpm !== undefined) changes.tpm = input.tpm;
    if (input.max_tokens_total !== undefined) changes.maxTokensTotal = input.max_tokens_total;
    const expiresAt = this.expiry(input.expires_at, now);
    if (expiresAt !== undefined) changes.expiresAt = expiresAt;
    if (input.enabled !== undefined) changes.enabled = input.enabled;
    if (input.metadata !== undefined) changes.metadata = input.metadata;
    return this.apply(id, changes);
  }

  /** A new secret for the same key; the old one stays valid for `graceSeconds`. */
  async rotate(id: string, graceSeconds = 0): Promise<IssuedKey> {
    const current = await this.found(id);
    const now = this.now();
    const key = generateClientKey();
    const changes: KeyChanges = {
      keyHash: hashSecret(key),
      last4: displayParts(key).last4,
      previousKeyHash: graceSeconds > 0 ? current.keyHash : null,
      previousValidUntil: graceSeconds > 0 ? now + graceSeconds * 1000 : null,
      updatedAt: now,
    };
    const record = await this.apply(id, changes);
    return { record, key };
  }

  /** Revokes a key: refused at once here, and on other replicas when the event arrives. */
  async revoke(id: string): Promise<void> {
    await this.found(id);
    await this.repo.update(id, { revokedAt: this.now(), updatedAt: this.now() });
    this.cache.remove(id);
    await this.events.publish({ type: 'revoked', id });
  }

  /**
   * Writes pending usage and adds it to the cached records (for quota checks). Keys with a
   * quota are announced as changed, so other replicas reload their usage and refuse a spent
   * quota within a flush interval rather than at the next full refresh.
   */
  async flushUsage(): Promise<void> {
    const quota: string[] = [];
    await this.serial(async () => {
      await this.meter.flush((written) => {
        for (const d of written) {
          const cached = this.cache.get(d.id);
          if (cached) cached.usage = addUsage(cached.usage, d);
          if (cached?.maxTokensTotal !== null && cached?.maxTokensTotal !== undefined) quota.push(d.id);
        }
      });
    });
    for (const id of quota) await this.events.publish({ type: 'changed', id });
  }

  /** Reloads every key from the database (picks up other replicas' usage and any missed event). */
  refresh(): Promise<void> {
    return this.serial(async () => this.cache.load(await this.repo.findActive()));
  }

  /** Applies a change made by another replica. */
  onEvent(event: KeyEvent): void {
    if (event.type === 'revoked') {
      this.cache.remove(event.id);
      return;
    }
    void this.serial(async () => {
      const record = await this.repo.findById(event.id);
      if (record && record.revokedAt === null) this.cache.upsert(record);
      else this.cache.remove(event.id);
    }).catch((err) => this.onError(err, 'key event'));
  }

  private serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.chain.then(task);
    this.chain = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private async found(id: string): Promise<KeyRecord> {
    const record = await this.repo.findById(id);
    if (!record || record.revokedAt !== null) {
      throw new GatewayError(404, `No key with id '${id}'.`, 'invalid_request_error', 'key_not_found');
    }
    return record;
  }

  private async apply(id: string, changes: KeyChanges): Promise<KeyRecord> {
    await this.repo.update(id, changes);
    const record = await this.found(id);
    this.cache.upsert(record);
    await this.events.publish({ type: 'changed', id });
    return this.withUsage(id);
  }

  /** Parses `expires_at`: undefined = unchanged, null = never; a time not in the future is a 400. */
  private expiry(value: string | null | undefined, now: number): number | null | undefined {
    if (value === undefined || value === null) return value;
    const t = Date.parse(value);
    if (Number.isNaN(t)) throw GatewayError.badRequest('expires_at must be an ISO 8601 time.', 'expires_at');
    if (t <= now) throw GatewayError.badRequest('expires_at must be in the future.', 'expires_at');
    return t;
  }
}

function normaliseModels(models: string[] | null | undefined): string[] | null {
  if (!models || models.length === 0) return null;
  return [...new Set(models)];
}
