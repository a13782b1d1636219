import { describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { parseRedisUrl, redactUrl } from '../../src/store/redis-url.js';

describe('redis store URLs', () => {
  it('accepts redis:// and rediss:// with user, password and database', () => {
    expect(parseRedisUrl('redis://127.0.0.1:6379')).toMatchObject({ tls: false });
    expect(parseRedisUrl('rediss://user:pw@redis.internal:6380/3')).toMatchObject({
      tls: true,
      redacted: 'rediss://user:***@redis.internal:6380/3',
    });
  });

  it('refuses a non-numeric database and a query, without echoing the password', () => {
    expect(() => parseRedisUrl('redis://u:hunter2@h:6379/x')).toThrow(/database must be a number/);
    expect(() => parseRedisUrl('redis://u:hunter2@h:6379/x')).not.toThrow(/hunter2/);
    expect(() => parseRedisUrl('redis://h:6379?timeout=1')).toThrow(/no query/);
    expect(redactUrl('redis://:pw@h:1')).toBe('redis://:***@h:1');
  });

  it('the config accepts both schemes and store_options with the SPEC defaults', () => {
    const parsed = configSchema.parse({ store: 'rediss://u:p@h:6380/0' });
    expect(parsed.store_options).toStrictEqual({ prefix: 'scopegate:', command_timeout: 50, stale_max: 60_000 });
    const custom = configSchema.parse({
      store: 'redis://h:6379',
      store_options: { prefix: 'gw1:', command_timeout: '20ms', stale_max: '5m' },
    });
    expect(custom.store_options).toStrictEqual({ prefix: 'gw1:', command_timeout: 20, stale_max: 300_000 });
    expect(() => configSchema.parse({ store_options: { prefx: 'x' } })).toThrow();
    expect(() => configSchema.parse({ store_options: { prefix: 'a b' } })).toThrow();
  });
});
