/** `scopegate explain METHOD PATH [--token T | --client ID]` from the built CLI, offline (SPEC.md 1). */
import { beforeAll, describe, expect, it } from 'vitest';
import { standardConfig } from '../helpers/fixtures.js';
import { runCli, writeConfigDir } from '../e2e/ops/cli.js';

let configPath: string;
const explain = (...args: string[]) => runCli(['explain', ...args, '--config', configPath]);

beforeAll(async () => {
  ({ configPath } = writeConfigDir(await standardConfig({ upstream: 'http://127.0.0.1:9' })));
});

describe('route and requirement', () => {
  it('names the matching route, its upstream, what it requires and which credentials it accepts', () => {
    const r = explain('GET', '/api/menu/12');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('route #1: /api/menu/** -> upstream restaurant');
    expect(r.stdout).toContain('requires: all of [menu:read]');
    expect(r.stdout).toContain('accepts: bearer, api_key, client_secret');
  });

  it('no route: 404, exit 2', () => {
    const r = explain('GET', '/nothing');
    expect(r.status).toBe(2);
    expect(r.stdout).toContain('result: DENY: 404: no route matches');
  });

  it('a method without a scope entry: 405 with Allow', () => {
    const r = explain('DELETE', '/api/orders/1', '--client', 'pos');
    expect(r.status).toBe(2);
    expect(r.stdout).toContain('result: DENY: 405: DELETE has no scope entry; Allow: GET, HEAD, POST');
  });

  it('shows the normalized path it matched', () => {
    const r = explain('GET', '/api/public/../menu');
    expect(r.stdout).toContain('normalized: /api/menu');
    expect(r.stdout).toContain('/api/menu/**');
  });
});

describe('--client', () => {
  it('pass', () => {
    const r = explain('POST', '/api/orders', '--client', 'pos');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('caller: client pos with its full grant [menu:read orders:read orders:write]');
    expect(r.stdout).toContain('result: PASS: allowed');
  });

  it('403 with the missing scope and the reason', () => {
    const r = explain('POST', '/api/menu', '--client', 'pos');
    expect(r.status).toBe(2);
    expect(r.stdout).toMatch(/result: DENY: 403 insufficient_scope: .*menu:write.* \(insufficient_scope\)/);
  });

  it('403 for another tenant', () => {
    const r = explain('GET', '/api/organizations/rest-hamburg/reservations', '--client', 'booking');
    expect(r.status).toBe(2);
    expect(r.stdout).toContain('requires: all of [reservations:read], tenant = rest-hamburg');
    expect(r.stdout).toMatch(/result: DENY: 403 insufficient_scope: .*\(\w*tenant\w*\)/);
  });

  it('an unknown client', () => {
    const r = explain('GET', '/api/menu', '--client', 'ghost');
    expect(r.status).toBe(2);
    expect(r.stdout).toContain('result: DENY: 401: unknown client ghost');
  });
});

describe('--token', () => {
  it('a token of the local issuer: pass and 403 with the reason', () => {
    const minted = runCli(['token', '--client', 'pos', '--scope', 'menu:read', '--config', configPath]);
    expect(minted.status).toBe(0);
    const token = minted.stdout.trim().split('\n').at(-1)!.trim();
    const ok = explain('GET', '/api/menu', '--token', token);
    expect(ok.status).toBe(0);
    expect(ok.stdout).toContain('caller: pos via bearer, scopes [menu:read]');
    expect(ok.stdout).toContain('result: PASS: allowed');
    const denied = explain('GET', '/api/orders', '--token', token);
    expect(denied.status).toBe(2);
    expect(denied.stdout).toMatch(/result: DENY: 403 insufficient_scope: .*orders:read/);
  });

  it('a bad token: 401 with the reason', () => {
    const r = explain('GET', '/api/menu', '--token', 'not-a-token');
    expect(r.status).toBe(2);
    expect(r.stdout).toMatch(/result: DENY: 401 invalid_token: .*\(unknown_token\)/);
  });

  it('--token and --client together is an error', () => {
    const r = explain('GET', '/api/menu', '--token', 'x', '--client', 'pos');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('use --token or --client, not both');
  });
});
