import { writeSync } from 'node:fs';
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

/** How long one log line may wait for a full stdout pipe (EAGAIN) before it is dropped. */
const FULL_PIPE_WAIT_MS = 1000;

/**
 * stdout as the log destination: one synchronous write(2) per line, nothing buffered at exit. Once a write fails for
 * any reason but a full pipe (EPIPE: whoever read stdout is gone), logging stops for good and never throws. pino's
 * default destination retries a failed flush forever at exit, so a gateway whose log reader had gone never finished
 * SIGTERM; and nothing here may block the exit (issue 10).
 */
export function stdoutDestination(fd = 1): DestinationStream & { readonly broken: boolean } {
  let broken = false;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  return {
    get broken() {
      return broken;
    },
    write(line: string) {
      if (broken) return;
      let buf = Buffer.from(line, 'utf8');
      let waited = 0;
      while (buf.length > 0) {
        try {
          buf = buf.subarray(writeSync(fd, buf));
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'EAGAIN' && waited < FULL_PIPE_WAIT_MS) {
            Atomics.wait(pause, 0, 0, 1); // a slow reader: wait a little, bounded
            waited += 1;
            continue;
          }
          if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') broken = true;
          return;
        }
      }
    },
  };
}

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
  return pino(options, destination ?? stdoutDestination());
}

export type { Logger };
