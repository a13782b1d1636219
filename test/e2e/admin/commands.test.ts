/**
 * `scopegate audit verify` finds a tampered record; `clients export` / `clients import` round-trip losslessly with
 * hashes only; `hash-secret --admin` gives a token the admin section accepts.
 */
import Database from 'better-sqlite3';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { auditVerifyCommand } from '../../../src/commands/audit-verify.js';
import { clientsExportCommand, clientsImportCommand } from '../../../src/commands/clients-transfer.js';
import { hashSecretCommand } from '../../../src/commands/hash-secret.js';
import { hashApiKey } from '../../../src/auth/secret-hash.js';
import { restoreCommand } from '../../../src/commands/restore.js';
import { revokeCommand } from '../../../src/commands/revoke.js';
import { tokenCommand } from '../../../src/commands/token.js';
import { postForm } from '../issuer/harness.js';
import { runCli } from '../ops/cli.js';
import { adminConfig, newTokens, startAdminGateway } from './harness.js';

describe('audit verify, clients export and import', () => {
  it('proves the chain intact, finds a tampered record, and round-trips clients', async () => {
    const h = await startAdminGateway();
    const secrets: string[] = [];
    for (const id of ['exp-1', 'exp-2']) {
      const res = await h.call(h.tokens.operator, 'POST', '/admin/clients', {
        id,
        name: `Export ${id}`,
        provider_url: 'https://p.example',
        organizations: ['rest-berlin'],
        scopes: ['menu:read'],
        rate_limit: '10/s',
        expires_at: '2030-01-01T00:00:00.000Z',
      });
      expect(res.status).toBe(201);
      secrets.push((res.body.secret as { value: string }).value);
    }
    const key = await h.call(h.tokens.operator, 'POST', '/admin/clients/exp-1/api-keys', {});
    secrets.push((key.body.api_key as { value: string }).value);
    await h.call(h.tokens.operator, 'PATCH', '/admin/clients/exp-2', { name: 'Renamed' });
    const { configPath, dir } = h.gw;
    await h.close();

    expect(await auditVerifyCommand(configPath)).toBe('audit trail intact: 4 records');
    expect(runCli(['audit', 'verify', '--config', configPath])).toMatchObject({ status: 0 });

    const exported = await clientsExportCommand(configPath);
    expect(exported).toContain('scrypt$');
    expect(exported).toContain('sha256:');
    for (const s of secrets) expect(exported).not.toContain(s);

    // import into another store, export again: the same text
    const other = mkdtempSync(join(tmpdir(), 'scopegate-import-'));
    const otherConfig = join(other, 'gateway.yaml');
    writeFileSync(otherConfig, readFileSync(configPath, 'utf8'));
    writeFileSync(join(other, 'clients.yaml'), exported);
    expect(await clientsImportCommand(otherConfig, readFileSync(join(other, 'clients.yaml'), 'utf8'))).toBe(
      'imported 2 clients (2 created, 0 replaced)',
    );
    expect(await clientsExportCommand(otherConfig)).toBe(exported);
    expect(await clientsImportCommand(otherConfig, exported)).toBe('imported 2 clients (0 created, 2 replaced)');
    await expect(clientsImportCommand(otherConfig, 'clients:\n  - id: x\n    secret: plain\n')).rejects.toThrow(
      /import:/,
    );
    await expect(clientsImportCommand(otherConfig, exported.replace('- menu:read', '- orders:write'))).rejects.toThrow(
      /scopes not licensed to all its organizations: orders:write/,
    );

    // an imported client authenticates on a gateway started on that store
    const imported = await startAdminGateway({ dir: other, tokens: newTokens() });
    try {
      const res = await fetch(`${imported.gw.url}/api/menu/1`, { headers: { 'X-Api-Key': secrets[2]! } });
      expect(res.status).toBe(200);
    } finally {
      await imported.close();
    }

    // tamper with record 2: verify names it
    const db = new Database(join(dir, 'data', 'state.db'));
    const row = db.prepare("SELECT body FROM logs WHERE log = 'audit' AND seq = 2").get() as { body: string };
    db.prepare("UPDATE logs SET body = ? WHERE log = 'audit' AND seq = 2").run(
      row.body.replace('Export exp-2', 'Evil'),
    );
    db.close();
    await expect(auditVerifyCommand(configPath)).rejects.toThrow(/audit record 2 is broken: hash does not match/);
    // the built CLI exits non-zero and names the record
    const cli = runCli(['audit', 'verify', '--config', configPath]);
    expect(cli.status).toBe(1);
    expect(cli.stderr).toMatch(/audit record 2 is broken/);
  }, 60_000);

  it('hash-secret --admin --generate prints a >= 128-bit token and its sha256 hash', async () => {
    const out = await hashSecretCommand({ apiKey: false, admin: true, generate: true });
    const token = /admin_token: (\S+)/.exec(out)![1]!;
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(out).toContain(`hash: "${hashApiKey(token)}"`);
    await expect(
      hashSecretCommand({ apiKey: false, admin: true, generate: false, input: 'short-but-16chars!' }),
    ).rejects.toThrow(/128 bits/);
    expect(await adminConfig('http://127.0.0.1:1', newTokens())).toContain('role: operator');
  });
});

describe('the CLI knows clients created through the admin API', () => {
  it('revoke, restore and token act on a store client as on a file client', async () => {
    const h = await startAdminGateway();
    try {
      const created = await h.call(h.tokens.operator, 'POST', '/admin/clients', {
        id: 'cli-store',
        name: 'Made by API',
        scopes: ['menu:read'],
      });
      expect(created.status).toBe(201);
      const secret = (created.body.secret as { value: string }).value;
      const grant = () =>
        postForm(h.gw.url, '/oauth/token', { id: 'cli-store', secret }, { grant_type: 'client_credentials' });
      expect((await grant()).status).toBe(200);

      expect(await revokeCommand({ configPath: h.gw.configPath, client: 'cli-store' })).toMatch(/^revoked/);
      expect((await grant()).status).toBe(401);
      await expect(tokenCommand({ configPath: h.gw.configPath, client: 'cli-store' })).rejects.toThrow(/revoked/);
      expect(await restoreCommand({ configPath: h.gw.configPath, client: 'cli-store' })).toMatch(/^restored/);
      expect((await grant()).status).toBe(200);
      expect(await tokenCommand({ configPath: h.gw.configPath, client: 'cli-store' })).toMatch(/^eyJ/);
    } finally {
      await h.close();
    }
  });
});
