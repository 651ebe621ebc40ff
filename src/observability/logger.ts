/**
 * Structured JSON logs (pino) with credentials redacted wherever they could appear: known fields
 * by path, and every written line scrubbed of credential shapes and of the literal secrets the
 * gateway knows (see secrets.ts). Scrubbing runs per written line, so it costs nothing for lines
 * below the level.
 */
import pino, { type Logger } from 'pino';
import { knownSecrets, REDACTED, type SecretScrubber } from './secrets';

const SECRET_FIELDS = [
  'api_key',
  'apiKey',
  'key',
  'secret',
  'password',
  'token',
  'access_token',
  'refresh_token',
  'master_key',
  'masterKey',
  'authorization',
];
const SECRET_HEADERS = [
  'authorization',
  '["proxy-authorization"]',
  'cookie',
  '["x-api-key"]',
  '["api-key"]',
  '["x-goog-api-key"]',
];

function headerPaths(prefix: string): string[] {
  return SECRET_HEADERS.map((h) => (h.startsWith('[') ? `${prefix}headers${h}` : `${prefix}headers.${h}`));
}

export const REDACT_PATHS = [
  ...SECRET_FIELDS,
  ...SECRET_FIELDS.map((f) => `*.${f}`),
  ...headerPaths(''),
  ...headerPaths('*.'),
];

export function createLogger(
  level = 'info',
  destination?: pino.DestinationStream,
  scrubber: SecretScrubber = knownSecrets,
): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { service: 'llm-trace-gateway' },
    redact: { paths: REDACT_PATHS, censor: REDACTED },
    timestamp: pino.stdTimeFunctions.isoTime,
    hooks: { streamWrite: (line) => scrubber.scrub(line) },
  };
  return destination ? pino(options, destination) : pino(options);
}

export type { Logger };
