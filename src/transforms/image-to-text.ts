/**
 * `image_to_text`: for text-only targets, each image part is described by a vision model and
 * replaced in place by a text part. Descriptions are cached by image content (LRU + TTL); two
 * identical images in flight share one vision call; a failure is an error, never a silent drop.
 */
import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { GatewayError } from '../common/errors';
import type { ChatCompletionRequest, ChatMessage } from '../common/openai.types';
import type { ImageToTextConfig } from '../config/config.types';

export const DEFAULT_IMAGE_PROMPT =
  'Describe this image in detail for someone who cannot see it. Include any text it contains, verbatim.';

export interface ImageCacheMetrics {
  hit(): void;
  miss(): void;
}

type Describe = (imageUrl: string, prompt: string) => Promise<string>;

interface ImagePart {
  type: 'image_url';
  image_url: { url: string };
}

function isImagePart(p: unknown): p is ImagePart {
  if (!p || typeof p !== 'object') return false;
  const o = p as { type?: unknown; image_url?: unknown };
  return (
    o.type === 'image_url' && !!o.image_url && typeof (o.image_url as { url?: unknown }).url === 'string'
  );
}

export function hasImages(req: ChatCompletionRequest): boolean {
  return req.messages.some((m) => Array.isArray(m.content) && (m.content as unknown[]).some(isImagePart));
}

function imageKey(url: string): string {
  const m = /^data:[^,]*,/.exec(url);
  const content = m ? url.slice(m[0].length) : url;
  return createHash('sha256').update(content).digest('hex');
}

export class ImageToTextService {
  private readonly caches = new Map<string, LRUCache<string, string>>();
  private readonly inflight = new Map<string, Promise<string>>();

  constructor(private readonly opts: { metrics?: ImageCacheMetrics } = {}) {}

  private cacheFor(cfg: ImageToTextConfig, prompt: string): LRUCache<string, string> {
    const id = `${cfg.model}\u0000${prompt}\u0000${cfg.cache_max ?? 500}\u0000${cfg.cache_ttl_s ?? 3600}`;
    let cache = this.caches.get(id);
    if (!cache) {
      cache = new LRUCache<string, string>({
        max: cfg.cache_max ?? 500,
        ttl: (cfg.cache_ttl_s ?? 3600) * 1000,
      });
      this.caches.set(id, cache);
    }
    return cache;
  }

  private describeOne(
    url: string,
    cfg: ImageToTextConfig,
    prompt: string,
    describe: Describe,
  ): Promise<string> {
    const cache = this.cacheFor(cfg, prompt);
    const key = imageKey(url);
    const cached = cache.get(key);
    if (cached !== undefined) {
      this.opts.metrics?.hit();
      return Promise.resolve(cached);
    }
    const flightKey = `${cfg.model}\u0000${prompt}\u0000${key}`;
    const pending = this.inflight.get(flightKey);
    if (pending) {
      this.opts.metrics?.hit();
      return pending;
    }
    this.opts.metrics?.miss();
    const p = describe(url, prompt)
      .then((text) => {
        cache.set(key, text);
        return text;
      })
      .catch((err: unknown) => {
        if (err instanceof GatewayError && err.code === 'image_description_failed') throw err;
        const reason = err instanceof Error ? err.message : String(err);
        throw new GatewayError(
          502,
          `Describing an image with model \`${cfg.model}\` failed: ${reason}`,
          'api_error',
          'image_description_failed',
        );
      })
      .finally(() => this.inflight.delete(flightKey));
    this.inflight.set(flightKey, p);
    return p;
  }

  async describeImages(
    req: ChatCompletionRequest,
    cfg: ImageToTextConfig,
    describe: Describe,
  ): Promise<ChatCompletionRequest> {
    if (!hasImages(req)) return req;
    const prompt = cfg.prompt ?? DEFAULT_IMAGE_PROMPT;
    const messages = await Promise.all(
      req.messages.map(async (m): Promise<ChatMessage> => {
        if (!Array.isArray(m.content) || !(m.content as unknown[]).some(isImagePart)) return m;
        const parts = await Promise.all(
          (m.content as unknown[]).map(async (p) => {
            if (!isImagePart(p)) return p;
            const text = await this.describeOne(p.image_url.url, cfg, prompt, describe);
            return { type: 'text' as const, text: `[Image description: ${text}]` };
          }),
        );
        return { ...m, content: parts } as ChatMessage;
      }),
    );
    return { ...req, messages };
  }
}
