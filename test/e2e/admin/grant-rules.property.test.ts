/**
 * Property: no sequence of admin API calls lets an org_admin end up with a client that holds an unlicensed scope or
 * another organization (SPEC.md 10, THREATS.md "Run-time administration"). Random sequences of create, update,
 * rotate, mint, revoke and delete calls by the Berlin admin, mixed with operator calls on Munich clients, run against a
 * started gateway; after each call every client the Berlin admin may see or change is checked.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAdminGateway, type AdminHarness } from './harness.js';

let h: AdminHarness;
beforeAll(async () => {
  h = await startAdminGateway({ failedAuthLimit: '100000/min' });
});
afterAll(async () => {
  await h?.close();
});

const BERLIN_LICENCE = new Set(['menu:read', 'reservations:read', 'reservations:write']);
const SCOPES = ['menu:read', 'menu:write', 'orders:read', 'reservations:read', 'reservations:write', 'admin:all'];
const ORGS = ['rest-berlin', 'rest-munich', 'rest-unknown'];

const scopes = fc.subarray(SCOPES);
const orgs = fc.option(fc.subarray(ORGS), { nil: undefined });
const target = fc.nat({ max: 5 });

type Command =
  | { kind: 'create'; orgs?: string[]; scopes: string[] }
  | { kind: 'patch'; target: number; orgs?: string[]; scopes?: string[] }
  | { kind: 'rotate' | 'mint' | 'revoke' | 'restore' | 'delete'; target: number }
  | { kind: 'operator-create-munich' };

const command: fc.Arbitrary<Command> = fc.oneof(
  fc.record({ kind: fc.constant('create' as const), orgs, scopes }),
  fc.record({ kind: fc.constant('patch' as const), target, orgs, scopes: fc.option(scopes, { nil: undefined }) }),
  fc.record({
    kind: fc.constantFrom('rotate' as const, 'mint' as const, 'revoke' as const, 'restore' as const, 'delete' as const),
    target,
  }),
  fc.constant({ kind: 'operator-create-munich' as const }),
);

let counter = 0;

describe('grant rules under any sequence of calls', () => {
  it('an org_admin never obtains an unlicensed scope or another organization', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 8 }), async (commands) => {
        const ids: string[] = ['file-client'];
        for (const c of commands) {
          const id =
            c.kind === 'create' || c.kind === 'operator-create-munich'
              ? `prop-${counter++}`
              : ids[c.target % ids.length]!;
          let res;
          switch (c.kind) {
            case 'create':
              res = await h.call(h.tokens.berlin, 'POST', '/admin/clients', {
                id,
                name: 'p',
                scopes: c.scopes,
                refresh_tokens: true,
                ...(c.orgs ? { organizations: c.orgs } : {}),
              });
              if (res.status === 201) ids.push(id);
              break;
            case 'operator-create-munich':
              res = await h.call(h.tokens.operator, 'POST', '/admin/clients', {
                id,
                name: 'm',
                organizations: ['rest-munich'],
                scopes: ['menu:read'],
              });
              expect(res.status).toBe(201);
              ids.push(id);
              break;
            case 'patch':
              res = await h.call(h.tokens.berlin, 'PATCH', `/admin/clients/${id}`, {
                ...(c.orgs ? { organizations: c.orgs } : {}),
                ...(c.scopes ? { scopes: c.scopes } : {}),
              });
              break;
            case 'delete':
              res = await h.call(h.tokens.berlin, 'DELETE', `/admin/clients/${id}`);
              break;
            case 'rotate':
              res = await h.call(h.tokens.berlin, 'POST', `/admin/clients/${id}/secrets`, {});
              break;
            default:
              res = await h.call(
                h.tokens.berlin,
                'POST',
                `/admin/clients/${id}/${c.kind === 'mint' ? 'refresh-tokens' : c.kind}`,
                {},
              );
          }
          expect(res.status, res.text).toBeLessThan(500);
          // every client as the operator sees it now: whatever the Berlin admin can see, it holds only Berlin licences
          const all = await h.call(h.tokens.operator, 'GET', '/admin/clients');
          for (const client of all.body.clients as {
            id: string;
            organizations: string[];
            scopes: string[];
            source: string;
          }[]) {
            const berlinOwned =
              client.organizations.length > 0 && client.organizations.every((o) => o === 'rest-berlin');
            const visible = await h.call(h.tokens.berlin, 'GET', `/admin/clients/${client.id}`);
            expect(visible.status === 200, client.id).toBe(berlinOwned);
            if (berlinOwned)
              for (const s of client.scopes) expect(BERLIN_LICENCE.has(s), `${client.id} ${s}`).toBe(true);
          }
        }
      }),
      { numRuns: 25 },
    );
  }, 240_000);
});
