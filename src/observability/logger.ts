/** Structured JSON logs (pino) with credentials redacted wherever they could appear. */
import pino, { type Logger } from 'pino';

export const REDACT_PATHS = [
  'api_key',
  'apiKey',
  'key',
  'secret',
  'authorization',
  '*.api_key',
  '*.apiKey',
  '*.key',
  '*.secret',
  '*.authorization',
  'headers["x-api-key"]',
  'headers["api-key"]',
  'headers.authorization',
  '*.headers.authorization',
  '*.headers["x-api-key"]',
  '*.headers["api-key"]',
];

export function createLogger(level = 'info', destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { service: 'llm-trace-gateway' },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return destination ? pino(options, destination) : pino(options);
}

export type { Logger };
