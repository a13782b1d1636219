/**
 * issue 15: request lines are written once per event-loop turn, not once per line. No line may be lost or reordered
 * by that: not across turns, not past the batch size, not when the process exits in the same turn it logged.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const LOGGER = new URL('../../src/server/logger.ts', import.meta.url).href;

/** runs `body` in a fresh Node process (tsx) with `log` = a logger on stdout; returns stdout's lines */
function run(body: string): string[] {
  const script = `import { createLogger } from ${JSON.stringify(LOGGER)};\nconst log = createLogger();\n${body}`;
  const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  expect(child.status, child.stderr).toBe(0);
  return child.stdout.split('\n').filter((l) => l !== '');
}

const numbers = (lines: string[]) => lines.map((l) => (JSON.parse(l) as { n: number }).n);

describe('stdoutDestination batching', () => {
  it('writes every line in order, across turns and past the batch size', () => {
    const lines = run(`
      for (let n = 0; n < 3000; n++) log.info({ n, pad: 'x'.repeat(40) }, 'line');
      setImmediate(() => { log.info({ n: 3000 }, 'line'); setTimeout(() => log.info({ n: 3001 }, 'line'), 5); });
    `);
    expect(numbers(lines)).toEqual([...Array(3002).keys()]);
  });

  it('writes the lines of the last turn when the process exits in it', () => {
    const lines = run(`log.info({ n: 0 }, 'a'); log.info({ n: 1 }, 'b'); process.exit(0);`);
    expect(numbers(lines)).toEqual([0, 1]);
  });

  it('writes them when an uncaught error ends the process', () => {
    const script = `import { createLogger } from ${JSON.stringify(LOGGER)};
      const log = createLogger(); log.info({ n: 7 }, 'before'); throw new Error('boom');`;
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(child.status).not.toBe(0);
    expect(numbers(child.stdout.split('\n').filter((l) => l !== ''))).toEqual([7]);
  });
});
