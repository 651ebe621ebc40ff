/** Gateway client key format: `sk-gw-` + 40 base62 characters from the system CSPRNG. */
import { createHash, randomBytes, randomInt } from 'node:crypto';

export const KEY_PREFIX = 'sk-gw-';
export const KEY_BODY_LENGTH = 40;
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** A fresh client key secret. Characters are drawn without modulo bias. */
export function generateClientKey(): string {
  let body = '';
  for (let i = 0; i < KEY_BODY_LENGTH; i++) body += BASE62[randomInt(BASE62.length)];
  return KEY_PREFIX + body;
}

/** SHA-256 hex of a secret: the only form in which secrets are stored or looked up. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

export function isGatewayKey(token: string): boolean {
  return token.startsWith(KEY_PREFIX);
}

/** The displayable parts of a secret: its fixed prefix and last four characters. */
export function displayParts(secret: string): { key_prefix: string; last4: string } {
  return { key_prefix: KEY_PREFIX, last4: secret.slice(-4) };
}

/** Time-ordered key id: lexicographic order (lowercase hex) equals creation order. */
export function newKeyId(now: number): string {
  return `key_${now.toString(16).padStart(12, '0')}${randomBytes(6).toString('hex')}`;
}
