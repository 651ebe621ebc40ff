/**
 * The hook through which client keys, limits and quotas act on /v1 calls (SPEC §3, §4).
 * The gateway calls `admit` before routing and `settle` when the call's usage is known.
 */
export interface AccessRequest {
  headers: Record<string, string | string[] | undefined>;
  model: string | null;
  endpoint: string;
}

export interface AccessGrant {
  /** The gateway client key id, when a client key was presented. */
  keyId: string | null;
  /** The caller's bearer token to forward upstream when a provider has no key (never a gateway key). */
  forwardToken: string | null;
}

export interface AccessControl {
  /** Throws a GatewayError (401/403/429) when the call is refused. */
  admit(req: AccessRequest): Promise<AccessGrant> | AccessGrant;
  settle(
    keyId: string,
    usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number },
  ): void;
}

export const ACCESS_CONTROL = Symbol('ACCESS_CONTROL');
