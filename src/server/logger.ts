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

/** How long one write may wait for a full stdout pipe (EAGAIN) before its lines are dropped. */
const FULL_PIPE_WAIT_MS = 1000;

/** Buffered bytes past which the lines are written at once rather than at the end of the event-loop turn. */
const BATCH_BYTES = 64 * 1024;

/** Destinations with lines not yet written; one `exit` listener writes them all (process.exit, uncaught errors). */
const pending = new Set<{ flush(): void }>();
process.once('exit', () => {
  for (const destination of pending) destination.flush();
});

/**
 * stdout as the log destination: the lines of one event-loop turn go out in one synchronous write(2) (one per line
 * cost about 6 us of CPU per request, docs/performance.md), at the latest when the turn ends (`setImmediate`) or the
 * process exits. Once a write fails for any reason but a full pipe (EPIPE: whoever read stdout is gone), logging
 * stops for good and never throws. pino's default destination retries a failed flush forever at exit, so a gateway
 * whose log reader had gone never finished SIGTERM; and nothing here may block the exit (issue 10).
 */
export function stdoutDestination(fd = 1): DestinationStream & { readonly broken: boolean; flush(): void } {
  let broken = false;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  let lines: string[] = [];
  let bytes = 0;
  const writeAll = (text: string) => {
    let buf = Buffer.from(text, 'utf8');
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
  };
  const destination = {
    get broken() {
      return broken;
    },
    flush() {
      pending.delete(destination);
      if (lines.length === 0) return;
      const text = lines.length === 1 ? lines[0]! : lines.join('');
      lines = [];
      bytes = 0;
      if (!broken) writeAll(text);
    },
    write(line: string) {
      if (broken) return;
      lines.push(line);
      bytes += line.length;
      if (bytes >= BATCH_BYTES) {
        destination.flush();
        return;
      }
      if (lines.length === 1) {
        pending.add(destination);
        setImmediate(destination.flush);
      }
    },
  };
  return destination;
}

/**
 * pino's `stdTimeFunctions.isoTime`, formatted once per millisecond: `toISOString` cost about 2 us per line, and
 * under load several lines share a millisecond.
 */
function isoTimeFunction(): () => string {
  let lastMs = -1;
  let last = '';
  return () => {
    const now = Date.now();
    if (now !== lastMs) {
      lastMs = now;
      last = `,"time":"${new Date(now).toISOString()}"`;
    }
    return last;
  };
}

export function createLogger(
  destination?: DestinationStream,
  level = process.env.SCOPEGATE_LOG_LEVEL ?? 'info',
): Logger {
  const isoTime = isoTimeFunction();
  const options = {
    level,
    base: undefined,
    messageKey: 'msg',
    timestamp: isoTime,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    formatters: { level: (label: string) => ({ level: label }) },
    // C1 controls, U+2028/2029 and bidi overrides from token claims or paths are escaped (JSON leaves them raw)
    hooks: { streamWrite: escapeLogLine },
  };
  return pino(options, destination ?? stdoutDestination());
}

export type { Logger };
