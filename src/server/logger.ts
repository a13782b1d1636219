import { pino, type DestinationStream, type Logger } from 'pino';
import { escapeLogLine } from './log-safety.js';

/** Keys whose values never reach a log line, wherever they appear. */
export const REDACT_PATHS = [
  'authorization',
  'password',
  'secret',
  'client_secret',
  'access_token',
  'refresh_token',
  'api_key',
  'token',
  '*.authorization',
  '*.client_secret',
  '*.access_token',
  '*.refresh_token',
  '*.api_key',
  '*.token',
  '*.secret',
  'headers["x-api-key"]',
  'headers["x-client-secret"]',
  'headers.authorization',
];

export function createLogger(
  destination?: DestinationStream,
  level = process.env.SCOPEGATE_LOG_LEVEL ?? 'info',
): Logger {
  const options = {
    level,
    base: undefined,
    messageKey: 'msg',
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    formatters: { level: (label: string) => ({ level: label }) },
    // C1 controls, U+2028/2029 and bidi overrides from token claims or paths are escaped (JSON leaves them raw)
    hooks: { streamWrite: escapeLogLine },
  };
  return destination ? pino(options, destination) : pino(options);
}

export type { Logger };
