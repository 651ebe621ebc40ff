/**
 * Key changes between the workers of one machine (WORKERS=N without Redis): a worker tells the
 * cluster primary, which passes the event to every other worker (src/cluster/primary.ts).
 */
import type { PrimaryLink } from '../cluster/messages';
import type { KeyEvent, KeyEvents } from './key-events';

export class ClusterKeyEvents implements KeyEvents {
  private unsubscribe: (() => void) | null = null;

  constructor(
    private readonly link: PrimaryLink,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {}

  async publish(event: KeyEvent): Promise<void> {
    try {
      this.link.send({ gw: 'key-event', event });
    } catch (err) {
      this.onError(err);
    }
  }

  async subscribe(handler: (event: KeyEvent) => void): Promise<void> {
    this.unsubscribe = this.link.onMessage((m) => {
      if (m.gw === 'key-event') handler(m.event);
    });
  }

  async close(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = null;
  }
}
