#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError } from './config/config-error.js';
import { checkCommand } from './commands/check.js';
import { resolveConfigPath } from './commands/config-path.js';
import { hashSecretCommand } from './commands/hash-secret.js';
import { keygenCommand } from './commands/keygen.js';
import { startCommand } from './commands/start.js';
import { explainCommand } from './commands/explain.js';
import { tokenCommand } from './commands/token.js';
import { revokeCommand } from './commands/revoke.js';
import { restoreCommand } from './commands/restore.js';
import { refreshTokenCommand } from './commands/refresh-token.js';
import { auditVerifyCommand } from './commands/audit-verify.js';
import { clientsExportCommand, clientsImportCommand } from './commands/clients-transfer.js';
import { storeMigrateCommand } from './commands/store-migrate.js';

const USAGE = `usage: scopegate <command> [options]

  start [--config FILE]                      start the gateway
  check [--config FILE]                      validate the config, print the route x method x scope matrix
  hash-secret [--api-key|--admin] [--generate]  hash a secret read from stdin (or a generated one)
  keygen [--alg ES256]                       print a new private JWK
  token --client ID [--scope "a b"] [--tenant T]    mint an access token with the local issuer
  explain METHOD PATH [--token T | --client ID]     which route matches and whether that caller passes
  revoke --client ID                         take a client's access away
  restore --client ID                        give a revoked client access again
  refresh-token --client ID --ttl 7d         mint a refresh token of limited validity
  audit verify                               check the audit trail's hash chain; names the first broken record
  clients export                             print the clients created through the admin API (YAML, hashes only)
  clients import FILE                        write exported clients back into the store
  store migrate --from URL --to URL [--prefix P]   copy state between stores (idempotent; prints counts)

--config defaults to $SCOPEGATE_CONFIG, then ./gateway.yaml`;

const OPTIONS = {
  config: { type: 'string' },
  'api-key': { type: 'boolean', default: false },
  admin: { type: 'boolean', default: false },
  generate: { type: 'boolean', default: false },
  alg: { type: 'string' },
  client: { type: 'string' },
  scope: { type: 'string' },
  tenant: { type: 'string' },
  token: { type: 'string' },
  ttl: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  prefix: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

function need(value: string | undefined, flag: string): string {
  if (!value) throw new Error(`${flag} is required`);
  return value;
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  const [command, ...rest] = positionals;
  const configPath = resolveConfigPath(values.config);
  const print = (text: string) => process.stdout.write(`${text}\n`);
  switch (command) {
    case 'start':
      await startCommand({ configPath });
      return -1; // keeps running
    case 'check':
      print(checkCommand(configPath));
      return 0;
    case 'hash-secret': {
      const input = values.generate ? undefined : readFileSync(0, 'utf8');
      print(
        await hashSecretCommand({ apiKey: values['api-key'], admin: values.admin, generate: values.generate, input }),
      );
      return 0;
    }
    case 'keygen':
      print(await keygenCommand(values.alg));
      return 0;
    case 'token':
      print(
        await tokenCommand({
          configPath,
          client: need(values.client, '--client'),
          scope: values.scope,
          tenant: values.tenant,
        }),
      );
      return 0;
    case 'explain': {
      if (rest.length !== 2) throw new Error('usage: scopegate explain METHOD PATH [--token T | --client ID]');
      const result = await explainCommand({
        configPath,
        method: rest[0]!,
        path: rest[1]!,
        token: values.token,
        client: values.client,
      });
      print(result.text);
      return result.pass ? 0 : 2;
    }
    case 'revoke':
      print(await revokeCommand({ configPath, client: need(values.client, '--client') }));
      return 0;
    case 'restore':
      print(await restoreCommand({ configPath, client: need(values.client, '--client') }));
      return 0;
    case 'refresh-token':
      print(
        await refreshTokenCommand({
          configPath,
          client: need(values.client, '--client'),
          ttl: need(values.ttl, '--ttl'),
        }),
      );
      return 0;
    case 'audit':
      if (rest[0] !== 'verify') throw new Error('usage: scopegate audit verify [--config FILE]');
      print(await auditVerifyCommand(configPath));
      return 0;
    case 'clients':
      if (rest[0] === 'export' && rest.length === 1) {
        print(await clientsExportCommand(configPath));
        return 0;
      }
      if (rest[0] === 'import' && rest.length === 2) {
        const text = readFileSync(rest[1] === '-' ? 0 : rest[1]!, 'utf8');
        print(await clientsImportCommand(configPath, text));
        return 0;
      }
      throw new Error('usage: scopegate clients export | clients import FILE [--config FILE]');
    case 'store':
      if (rest[0] !== 'migrate') throw new Error('usage: scopegate store migrate --from URL --to URL');
      print(
        await storeMigrateCommand({
          from: need(values.from, '--from'),
          to: need(values.to, '--to'),
          prefix: values.prefix,
        }),
      );
      return 0;
    default:
      print(USAGE);
      return command === undefined || values.help ? 0 : 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
    } else {
      const e = err as NodeJS.ErrnoException & { syscall?: string; address?: string; port?: number };
      const text =
        e.code === 'EADDRINUSE'
          ? `cannot listen on ${e.address ?? ''}:${e.port ?? ''}: the address is already in use`
          : (e.message ?? String(err));
      process.stderr.write(`scopegate: ${text}\n`);
    }
    process.exitCode = 1;
  },
);
