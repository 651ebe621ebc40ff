/**
 * /metrics under WORKERS=N: a scrape reaches one worker, which asks the primary to gather every
 * worker's registry (prom-client's cluster aggregation), so the text counts the whole machine.
 */
import { AggregatorRegistry, type Registry } from 'prom-client';
import type { PrimaryLink } from './messages';

export class ClusterMetrics {
  private seq = 0;
  private readonly waiting = new Map<number, (m: { text: string | null; error: string | null }) => void>();

  constructor(
    private readonly link: PrimaryLink,
    registry: Registry,
    private readonly timeoutMs = 6000,
  ) {
    // Answers the primary's requests for this worker's metrics.
    new AggregatorRegistry();
    AggregatorRegistry.setRegistries([registry]);
    link.onMessage((m) => {
      if (m.gw !== 'metrics') return;
      const done = this.waiting.get(m.seq);
      this.waiting.delete(m.seq);
      done?.({ text: m.text, error: m.error });
    });
  }

  /** The machine's metrics as Prometheus text. */
  text(): Promise<string> {
    const seq = ++this.seq;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(seq);
        reject(new Error(`the cluster primary did not gather metrics within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      timer.unref();
      this.waiting.set(seq, (m) => {
        clearTimeout(timer);
        if (m.text !== null) resolve(m.text);
        else reject(new Error(m.error ?? 'the cluster primary could not gather metrics'));
      });
      this.link.send({ gw: 'metrics', seq });
    });
  }
}
