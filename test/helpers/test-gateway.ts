import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/server/logger.js';
import { startGateway, type RunningGateway, type StartOptions } from '../../src/server/start-gateway.js';

export interface TestGateway extends RunningGateway {
  dir: string;
  configPath: string;
  /** every log line the gateway wrote, parsed */
  logs: Record<string, unknown>[];
  rawLogs: string[];
}

/** Writes `yaml` into a fresh temp dir and starts a real gateway on 127.0.0.1 with random ports. */
export async function startTestGateway(
  yaml: string,
  options: { admin?: boolean; dir?: string; adminListen?: string; console?: StartOptions['console'] } = {},
): Promise<TestGateway> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'scopegate-test-'));
  const configPath = join(dir, 'gateway.yaml');
  writeFileSync(configPath, yaml);
  const rawLogs: string[] = [];
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line) continue;
        rawLogs.push(line);
        logs.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
  const gateway = await startGateway({
    configPath,
    listen: '127.0.0.1:0',
    adminListen: options.admin === false ? undefined : (options.adminListen ?? '127.0.0.1:0'),
    logger: createLogger(sink, 'debug'),
    console: options.console,
  });
  return Object.assign(gateway, { dir, configPath, logs, rawLogs });
}
