/**
 * Key changes broadcast between replicas (SPEC §4: a revoked key gets 401 on every replica within
 * 1 s). Without Redis there is one process and nothing to broadcast.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';

export interface KeyEvent {
  type: 'changed' | 'revoked';
  id: string;
}

export interface KeyEvents {
  publish(event: KeyEvent): Promise<void>;
  /** Handles events published by other processes. */
  subscribe(handler: (event: KeyEvent) => void): Promise<void>;
  close(): Promise<void>;
}

export class LocalKeyEvents implements KeyEvents {
  async publish(): Promise<void> {}
  async subscribe(): Promise<void> {}
  async close(): Promise<void> {}
}

function parseEvent(raw: string): (KeyEvent & { origin: string }) | null {
  try {
    const v: unknown = JSON.parse(raw);
    if (!v || typeof v !== 'object') return null;
    const o = v as Record<string, unknown>;
    if (
      (o.type === 'changed' || o.type === 'revoked') &&
      typeof o.id === 'string' &&
      typeof o.origin === 'string'
    ) {
      return { type: o.type, id: o.id, origin: o.origin };
    }
  } catch {
    // not ours
  }
  return null;
}

/** Pub/sub on `<prefix>key-events`; `subscriber` must be a connection of its own. */
export class RedisKeyEvents implements KeyEvents {
  private readonly origin = randomBytes(8).toString('hex');
  private readonly channel: string;

  constructor(
    private readonly publisher: Redis,
    private readonly subscriber: Redis,
    prefix: string,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {
    this.channel = `${prefix}key-events`;
  }

  async publish(event: KeyEvent): Promise<void> {
    try {
      await this.publisher.publish(this.channel, JSON.stringify({ ...event, origin: this.origin }));
    } catch (err) {
      this.onError(err);
    }
  }

  async subscribe(handler: (event: KeyEvent) => void): Promise<void> {
    this.subscriber.on('message', (channel: string, message: string) => {
      if (channel !== this.channel) return;
      const event = parseEvent(message);
      if (event && event.origin !== this.origin) handler({ type: event.type, id: event.id });
    });
    await this.ready();
    await this.subscriber.subscribe(this.channel);
  }

  /**
   * Resolves once the subscriber connection has finished its handshake. ioredis writes SUBSCRIBE
   * straight away while the handshake is still running (the command is allowed while the server
   * loads), and the handshake's own INFO / CLIENT SETINFO that follow are then refused in
   * subscriber mode: the connection fails its ready check and the subscription is lost. After the
   * first subscription, ioredis itself subscribes again on every reconnect once it is ready.
   */
  private ready(): Promise<void> {
    const s = this.subscriber;
    if (s.status === 'ready') return Promise.resolve();
    if (s.status === 'end') return Promise.reject(new Error('redis subscriber connection is closed'));
    const ready = new Promise<void>((resolve) => s.once('ready', () => resolve()));
    // A lazy connection is opened here; while Redis is down, ioredis keeps retrying (errors go to
    // the connection's 'error' listener) and this waits, as a queued SUBSCRIBE would.
    if (s.status === 'wait') s.connect().catch(() => undefined);
    return ready;
  }

  async close(): Promise<void> {
    this.subscriber.disconnect();
  }
}
