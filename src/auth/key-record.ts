/** A client key as the gateway holds it: the stored row in domain form (no secret, hashes only). */
export interface KeyUsage {
  requests: number;
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export interface KeyRecord {
  id: string;
  name: string;
  keyHash: string;
  keyPrefix: string;
  last4: string;
  /** The secret replaced by the last rotation, valid until `previousValidUntil`. */
  previousKeyHash: string | null;
  previousValidUntil: number | null;
  models: string[] | null;
  rpm: number | null;
  tpm: number | null;
  maxTokensTotal: number | null;
  /** Epoch ms. */
  expiresAt: number | null;
  enabled: boolean;
  metadata: Record<string, unknown> | null;
  createdAt: number;
  updatedAt: number;
  revokedAt: number | null;
  usage: KeyUsage;
}

export function emptyUsage(): KeyUsage {
  return { requests: 0, prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 };
}

export function addUsage(a: KeyUsage, b: KeyUsage): KeyUsage {
  return {
    requests: a.requests + b.requests,
    prompt_tokens: a.prompt_tokens + b.prompt_tokens,
    completion_tokens: a.completion_tokens + b.completion_tokens,
    total_tokens: a.total_tokens + b.total_tokens,
  };
}

/** The fields an update may change. */
export type KeyChanges = Partial<
  Pick<
    KeyRecord,
    | 'name'
    | 'keyHash'
    | 'last4'
    | 'previousKeyHash'
    | 'previousValidUntil'
    | 'models'
    | 'rpm'
    | 'tpm'
    | 'maxTokensTotal'
    | 'expiresAt'
    | 'enabled'
    | 'metadata'
    | 'updatedAt'
    | 'revokedAt'
  >
>;
