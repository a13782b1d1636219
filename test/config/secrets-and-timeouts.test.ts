import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/config-error.js';
import { parseConfig } from '../../src/config/load-config.js';
import { parseConfigObject } from '../../src/config/parse-config-object.js';

const problems = (text: string, env: NodeJS.ProcessEnv = {}) => {
  try {
    parseConfig(text, 'g.yaml', { env });
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  return '';
};

describe('client secrets are hashes or ${ENV} references (SPEC.md 3)', () => {
  it('refuses a plain secret written into the file, naming its line', () => {
    const text = 'clients:\n  - id: a\n    secret: a-plain-secret-in-the-file\n';
    expect(problems(text)).toBe(
      'g.yaml:3:13 clients[0].secret: write a plain secret as a ${ENV} reference, or use secret_hash',
    );
  });

  it('accepts a ${ENV} reference, and keeps the value', () => {
    const config = parseConfig('clients:\n  - id: a\n    secret: ${A_SECRET}\n', 'g.yaml', {
      env: { A_SECRET: 'from-the-environment-123' },
    });
    expect(config.clients[0]!.secret).toBe('from-the-environment-123');
  });

  it('a reference embedded in other text is still a secret in the file', () => {
    expect(
      problems('clients:\n  - id: a\n    secret: prefix-${A_SECRET}\n', { A_SECRET: 'from-the-environment-123' }),
    ).toMatch(/clients\[0\]\.secret/);
  });

  it('library mode: a config object may carry a secret its host program read', () => {
    expect(parseConfigObject({ clients: [{ id: 'a', secret: 'read-by-the-host-program' }] }).clients[0]!.secret).toBe(
      'read-by-the-host-program',
    );
  });
});

describe('timeouts are bounded', () => {
  for (const value of ['0s', '30d']) {
    it(`refuses timeout: ${value}`, () => {
      const text = `upstreams:\n  a:\n    url: http://127.0.0.1:1\n    timeout: ${value}\n`;
      expect(problems(text)).toBe('g.yaml:4:14 upstreams.a.timeout: a timeout is between 1ms and 1h');
    });
  }
});
