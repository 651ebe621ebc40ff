/** Access when no key store is wired: every call admitted, the caller's bearer forwarded. */
import type { AccessControl, AccessGrant, AccessRequest } from './access.interface';

export function bearerOf(headers: AccessRequest['headers']): string | null {
  const raw = headers.authorization;
  const value = Array.isArray(raw) ? raw[0] : raw;
  if (!value) return null;
  const m = /^Bearer\s+(.+)$/i.exec(value.trim());
  return m?.[1] ?? null;
}

export class OpenAccess implements AccessControl {
  admit(req: AccessRequest): AccessGrant {
    return { keyId: null, forwardToken: bearerOf(req.headers) };
  }

  settle(): void {
    // nothing is counted without a key store
  }
}
