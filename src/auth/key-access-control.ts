/**
 * AccessControl for /v1 calls (SPEC §3, §4): who the caller is, whether the key may use the
 * model, and whether its rate limits and quota allow the call. Reads only memory (key cache,
 * usage meter) and the rate limiter.
 */
import { GatewayError } from '../common/errors';
import type { AccessControl, AccessGrant, AccessRequest } from './access.interface';
import { bearerToken, presentedTokens } from './credentials';
import { modelAllowed } from './glob';
import type { KeyCache } from './key-cache';
import { hashSecret, isGatewayKey } from './key-format';
import type { RateLimiter } from './rate-limiter';
import { retryAfterSeconds } from './rate-limiter';
import type { UsageMeter } from './usage-meter';

export interface KeyAccessControlOptions {
  cache: KeyCache;
  meter: UsageMeter;
  limiter: RateLimiter;
  /** `auth.require_client_key`, read per call so config reloads apply. */
  requireClientKey: () => boolean;
  now?: () => number;
}

function unauthorized(message: string): GatewayError {
  return new GatewayError(401, message, 'invalid_request_error', 'invalid_api_key');
}

export class KeyAccessControl implements AccessControl {
  private readonly now: () => number;

  constructor(private readonly options: KeyAccessControlOptions) {
    this.now = options.now ?? Date.now;
  }

  async admit(req: AccessRequest): Promise<AccessGrant> {
    const required = this.options.requireClientKey();
    const bearer = bearerToken(req.headers);
    const forwardToken = !required && bearer !== null && !isGatewayKey(bearer) ? bearer : null;
    const clientKey = presentedTokens(req.headers).find(isGatewayKey);
    if (clientKey === undefined) {
      if (!required) return { keyId: null, forwardToken };
      throw unauthorized(
        presentedTokens(req.headers).length === 0
          ? 'Missing API key: send a gateway client key as "Authorization: Bearer sk-gw-...".'
          : 'Incorrect API key provided.',
      );
    }

    const now = this.now();
    const match = this.options.cache.lookup(hashSecret(clientKey), now);
    if (!match) throw unauthorized('Incorrect API key provided.');
    const key = match.record;
    if (!key.enabled) throw unauthorized('This API key is disabled.');
    if (key.expiresAt !== null && key.expiresAt <= now) throw unauthorized('This API key has expired.');

    // Calls without a model (model listing) are identified but not metered.
    if (req.model !== null) {
      if (!modelAllowed(key.models, req.model)) {
        throw new GatewayError(
          403,
          `This API key is not allowed to use the model '${req.model}'.`,
          'permission_error',
          'model_not_allowed',
          'model',
        );
      }
      if (key.maxTokensTotal !== null) {
        const used = key.usage.total_tokens + this.options.meter.pendingFor(key.id).total_tokens;
        if (used >= key.maxTokensTotal) {
          throw new GatewayError(
            429,
            `This API key has used its token quota (${key.maxTokensTotal} tokens).`,
            'insufficient_quota',
            'insufficient_quota',
          );
        }
      }
      const decision = await this.options.limiter.admit(key.id, { rpm: key.rpm, tpm: key.tpm }, now);
      if (!decision.ok) {
        const seconds = retryAfterSeconds(decision.retryAfterMs);
        const what = decision.limit === 'rpm' ? `${key.rpm} requests` : `${key.tpm} tokens`;
        throw new GatewayError(
          429,
          `Rate limit reached for this API key: ${what} per minute. Retry after ${seconds} s.`,
          'rate_limit_error',
          'rate_limit_exceeded',
          null,
          { 'retry-after': String(seconds) },
        );
      }
    }
    return { keyId: key.id, forwardToken };
  }

  settle(
    keyId: string,
    usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number },
  ): void {
    const clean = (n: number): number => (Number.isFinite(n) && n > 0 ? Math.round(n) : 0);
    const u = {
      requests: 1,
      prompt_tokens: clean(usage.prompt_tokens),
      completion_tokens: clean(usage.completion_tokens),
      total_tokens: clean(usage.total_tokens),
    };
    this.options.meter.record(keyId, u);
    this.options.limiter.addTokens(keyId, u.total_tokens, this.now());
  }
}
