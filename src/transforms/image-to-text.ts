/**
 * `image_to_text`: for text-only targets, each image part is described by a vision model and
 * replaced in place by a text part. Descriptions are cached by image content (LRU + TTL, one cache
 * per model and prompt); identical images in flight share one vision call; a failed description is
 * an error for the whole call, never a silent drop, and is not cached.
 */
import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { GatewayError } from '../common/errors';
import type { ChatCompletionRequest, ChatMessage } from '../common/openai.types';
import type { ImageToTextConfig } from '../config/config.types';

export const DEFAULT_IMAGE_PROMPT =
  'Describe this image in detail for someone who cannot see it. Include any text it contains, verbatim.';

const DEFAULT_CACHE_MAX = 500;
const DEFAULT_CACHE_TTL_S = 3600;
const MAX_REASON_CHARS = 300;

export interface ImageCacheMetrics {
  hit(): void;
  miss(): void;
}

/** Describes one image (a data URL or an http URL) with the given prompt; supplied by the gateway. */
export type DescribeImage = (imageUrl: string, prompt: string) => Promise<string>;

interface ImagePart {
  type: 'image_url';
  image_url: { url: string };
}

interface DescriptionCache {
  max: number;
  ttlMs: number;
  entries: LRUCache<string, string>;
}

function isImagePart(p: unknown): p is ImagePart {
  if (!p || typeof p !== 'object') return false;
  const o = p as { type?: unknown; image_url?: unknown };
  return (
    o.type === 'image_url' &&
    !!o.image_url &&
    typeof o.image_url === 'object' &&
    typeof (o.image_url as { url?: unknown }).url === 'string'
  );
}

function messageHasImages(m: ChatMessage): boolean {
  return Array.isArray(m.content) && (m.content as unknown[]).some(isImagePart);
}

export function hasImages(req: ChatCompletionRequest): boolean {
  return req.messages.some(messageHasImages);
}

/** SHA-256 of the image: a data URL's payload (its media type aside), else the URL string. */
export function imageKey(url: string): string {
  const comma = url.startsWith('data:') ? url.indexOf(',') : -1;
  const content = comma >= 0 ? url.slice(comma + 1) : url;
  return createHash('sha256').update(content).digest('hex');
}

/** An upstream reason fit for a client: secrets masked, bounded in length. */
function safeReason(err: unknown): string {
  const raw = err instanceof Error ? err.message : typeof err === 'string' ? err : 'unknown error';
  const masked = raw
    .replace(/\b(Bearer|Basic)\s+[^\s"',;]+/gi, '$1 [redacted]')
    .replace(/\b(sk|gw|pk|rk)-[A-Za-z0-9_-]{6,}/g, '[redacted]')
    .replace(/([?&](?:key|api[_-]?key|token|access_token|sig)=)[^&\s"']+/gi, '$1[redacted]');
  return masked.length > MAX_REASON_CHARS ? `${masked.slice(0, MAX_REASON_CHARS)}…` : masked;
}

/**
 * The error for a failed description, in OpenAI's shape. A GatewayError from the describe callback
 * keeps its status (400 for an image the vision model refused, 503/504 for an overloaded or slow
 * upstream); anything else is a 502.
 */
function descriptionError(model: string, err: unknown): GatewayError {
  const status = err instanceof GatewayError ? err.status : 502;
  const message = `Image description via model \`${model}\` failed: ${safeReason(err)}`;
  if (status < 500) {
    return new GatewayError(status, message, 'invalid_request_error', 'image_description_failed', 'messages');
  }
  return new GatewayError(status, message, 'api_error', 'image_description_failed');
}

export class ImageToTextService {
  private readonly caches = new Map<string, DescriptionCache>();
  private readonly inflight = new Map<string, Promise<string>>();

  constructor(private readonly opts: { metrics?: ImageCacheMetrics } = {}) {}

  /** Replaces every image part of every message by a text part holding the image's description. */
  async describeImages(
    req: ChatCompletionRequest,
    cfg: ImageToTextConfig,
    describe: DescribeImage,
  ): Promise<ChatCompletionRequest> {
    if (!hasImages(req)) return req;
    const prompt = cfg.prompt ?? DEFAULT_IMAGE_PROMPT;
    const messages = await Promise.all(
      req.messages.map(async (m) => {
        if (!messageHasImages(m)) return m;
        const parts = await Promise.all(
          (m.content as unknown[]).map(async (p) => {
            if (!isImagePart(p)) return p;
            const text = await this.describeOne(p.image_url.url, cfg, prompt, describe);
            return { type: 'text' as const, text: `[Image description: ${text.trim()}]` };
          }),
        );
        return { ...m, content: parts } as typeof m;
      }),
    );
    return { ...req, messages };
  }

  private cacheFor(cfg: ImageToTextConfig, prompt: string): LRUCache<string, string> {
    const id = `${cfg.model}\u0000${prompt}`;
    const max = cfg.cache_max ?? DEFAULT_CACHE_MAX;
    const ttlMs = (cfg.cache_ttl_s ?? DEFAULT_CACHE_TTL_S) * 1000;
    const current = this.caches.get(id);
    if (current && current.max === max && current.ttlMs === ttlMs) return current.entries;
    // first use, or the config changed the cache's size or lifetime: start afresh
    const entries = new LRUCache<string, string>({ max, ttl: ttlMs });
    this.caches.set(id, { max, ttlMs, entries });
    return entries;
  }

  private describeOne(
    url: string,
    cfg: ImageToTextConfig,
    prompt: string,
    describe: DescribeImage,
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
    const call = new Promise<string>((resolve) => resolve(describe(url, prompt)))
      .then((text) => {
        cache.set(key, text);
        return text;
      })
      .catch((err: unknown) => {
        throw descriptionError(cfg.model, err);
      })
      .finally(() => this.inflight.delete(flightKey));
    this.inflight.set(flightKey, call);
    return call;
  }
}
