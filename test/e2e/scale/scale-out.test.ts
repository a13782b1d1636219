/**
 * Three gateway processes on one real redis-server (SPEC.md 9, issue 12 item 8). Built CLI: `npm run build` first
 * (`npm test` builds before it tests). Servers start once for the file; the tests run in order and each leaves the
 * cluster healthy for the next.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SECRETS } from '../../helpers/fixtures.js';
import { send } from '../../helpers/http.js';
import { startRecordingUpstream, type RecordingUpstream } from '../../helpers/recording-upstream.js';
import { startRedis, type RedisServer } from '../../helpers/redis-server.js';
import { postForm, revocableClients, type ExtraClient } from '../issuer/harness.js';
import {
  limitedClient,
  LIMITED,
  percentile,
  startCluster,
  waitForReady,
  type Cluster,
  type Instance,
} from './harness.js';

const POS = { id: 'pos', secret: SECRETS.posSecret };
const PROP: ExtraClient = {
  id: 'prop',
  secret: 'prop-secret-with-enough-entropy-9753',
  apiKey: 'prop-key-abcdefghijklmnopqrstuvwxyz0123456',
};
const OUTAGE: ExtraClient = {
  id: 'outage',
  secret: 'outage-secret-with-enough-entropy-8642',
  apiKey: 'outage-key-abcdefghijklmnopqrstuvwxyz012345',
};
const RATE_PER_S = 20;
const STALE_MAX_MS = 4000;

let redis: RedisServer;
let upstream: RecordingUpstream;
let cluster: Cluster;
/** credentials revoked with a 2xx somewhere in this file: each must stay refused everywhere, whatever restarts */
const revokedTokens: string[] = [];

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
const adminAuth = { Authorization: `Bearer ${SECRETS.adminToken}` };

async function get(instance: Instance, token: string): Promise<number> {
  const res = await fetch(`${instance.url}/api/menu/1`, { headers: bearer(token) });
  await res.arrayBuffer();
  return res.status;
}

async function token(instance: Instance, client: { id: string; secret: string }) {
  const reply = await postForm(instance.url, '/oauth/token', client, { grant_type: 'client_credentials' });
  expect(reply.status, JSON.stringify(reply.body)).toBe(200);
  return { access: reply.body.access_token as string, refresh: reply.body.refresh_token as string };
}

async function adminPost(instance: Instance, path: string): Promise<Response> {
  return fetch(`${instance.adminUrl}${path}`, { method: 'POST', headers: adminAuth });
}

async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

beforeAll(async () => {
  redis = await startRedis({ appendonly: 'yes', appendfsync: 'everysec' });
  upstream = await startRecordingUpstream();
  cluster = await startCluster({
    redisUrl: redis.url,
    upstream: upstream.url,
    instances: 3,
    staleMax: `${STALE_MAX_MS / 1000}s`,
    extraClients: (await revocableClients([PROP, OUTAGE])) + limitedClient(`${RATE_PER_S}/s`),
  });
  for (const instance of cluster.instances) await waitForReady(instance);
}, 60_000);

afterAll(async () => {
  await cluster?.close();
  await upstream?.close();
  await redis?.stop();
});

describe('three gateway processes on one Redis', () => {
  it('50 parallel redemptions of one refresh token over three instances: exactly one 200, the family dies', async () => {
    const { refresh } = await token(cluster.instances[0]!, POS);
    const replies = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        postForm(cluster.instances[i % 3]!.url, '/oauth/token', POS, {
          grant_type: 'refresh_token',
          refresh_token: refresh,
        }),
      ),
    );
    const ok = replies.filter((r) => r.status === 200);
    expect(ok).toHaveLength(1);
    for (const r of replies.filter((x) => x.status !== 200)) {
      expect(r.status).toBe(400);
      expect(r.body.error).toBe('invalid_grant');
    }
    // the replays revoked the family: the winner's successor is dead too, on every instance
    for (const instance of cluster.instances) {
      const again = await postForm(instance.url, '/oauth/token', POS, {
        grant_type: 'refresh_token',
        refresh_token: ok[0]!.body.refresh_token as string,
      });
      expect(again.status).toBe(400);
    }
  });

  it('revocations through any instance hold on every instance within 1 s (20 revocations, measured)', async () => {
    const samples: number[] = [];
    for (let round = 0; round < 20; round++) {
      const via = cluster.instances[round % 3]!;
      const { access } = await token(cluster.instances[(round + 1) % 3]!, PROP);
      // every instance has just accepted it: their caches hold "not revoked", the worst case
      await until(
        async () => (await Promise.all(cluster.instances.map((i) => get(i, access)))).every((s) => s === 200),
        2000,
      );

      let ackAt = Infinity;
      let stop = false;
      const watch = async (instance: Instance) => {
        const statuses: { status: number; at: number }[] = [];
        let firstRefusal: number | undefined;
        while (!stop) {
          const status = await get(instance, access);
          const at = performance.now();
          statuses.push({ status, at });
          if (status === 401 && firstRefusal === undefined) {
            firstRefusal = at;
            // keep watching a little: nothing may be accepted after the first refusal
            setTimeout(() => (stop = true), 300);
          }
          if (at - ackAt > 3000) break;
        }
        return { statuses, firstRefusal };
      };
      const watchers = cluster.instances.map((i) => watch(i));
      const kind = round < 10 ? 'client' : 'token';
      if (kind === 'client') {
        const res = await adminPost(via, `/admin/clients/${PROP.id}/revoke`);
        expect(res.status).toBe(200);
      } else {
        const res = await postForm(via.url, '/oauth/revoke', PROP, { token: access });
        expect(res.status).toBe(200);
      }
      ackAt = performance.now();
      const results = await Promise.all(watchers);
      stop = false;
      for (const { statuses, firstRefusal } of results) {
        expect(firstRefusal, 'refused at all').toBeDefined();
        samples.push(Math.max(0, firstRefusal! - ackAt));
        const after = statuses.filter((s) => s.at >= firstRefusal!);
        expect(
          after.every((s) => s.status === 401),
          'no 200 after the first 401',
        ).toBe(true);
      }
      // (client rounds are restored below; a token minted in the same second as the previous restore is dated
      // past this revocation and comes back with the restore: a known iat-precision limit, see the report)
      if (kind === 'token') revokedTokens.push(access);
      if (kind === 'client') {
        expect((await adminPost(via, `/admin/clients/${PROP.id}/restore`)).status).toBe(200);
      }
    }
    // one client revocation that stays: it must survive Redis and gateway restarts below
    await new Promise((r) => setTimeout(r, 1100));
    const last = await token(cluster.instances[0]!, PROP);
    expect((await adminPost(cluster.instances[1]!, `/admin/clients/${PROP.id}/revoke`)).status).toBe(200);
    revokedTokens.push(last.access);
    const sorted = [...samples].sort((a, b) => a - b);
    console.info(
      `propagation over ${samples.length} (revocation x instance) samples: p50 ${percentile(sorted, 50).toFixed(1)} ms, ` +
        `p99 ${percentile(sorted, 99).toFixed(1)} ms, max ${sorted.at(-1)!.toFixed(1)} ms`,
    );
    // SPEC.md 9: within 1 s at worst (asserted); p99 <= 200 ms is printed above, not asserted: with 60 samples p99 is
    // the maximum, which a loaded CI machine may push past 200 ms without the design being at fault
    expect(sorted.at(-1)!).toBeLessThanOrEqual(1000);
  }, 60_000);

  it('the per-client rate limit is shared: 10x the rate over three instances admits rate x time + burst at most', async () => {
    const seconds = 10;
    const offeredPerS = RATE_PER_S * 10;
    const statuses: Promise<number>[] = [];
    const started = performance.now();
    for (let i = 0; i < offeredPerS * seconds; i++) {
      const due = started + (i * 1000) / offeredPerS;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      statuses.push(
        fetch(`${cluster.instances[i % 3]!.url}/api/menu/1`, { headers: { 'X-Api-Key': LIMITED.apiKey } }).then(
          async (res) => {
            await res.arrayBuffer();
            return res.status;
          },
        ),
      );
    }
    const all = await Promise.all(statuses);
    const elapsedS = (performance.now() - started) / 1000;
    const admitted = all.filter((s) => s === 200).length;
    const refused = all.filter((s) => s === 429).length;
    const allowed = RATE_PER_S * elapsedS + RATE_PER_S; // rate x time + burst (burst = the limit)
    console.info(
      `shared rate limit ${RATE_PER_S}/s over ${elapsedS.toFixed(1)} s, ${all.length} offered over 3 instances: ` +
        `${admitted} admitted, ${refused} refused; allowed at most ${allowed.toFixed(0)} ` +
        `(${((admitted / (RATE_PER_S * elapsedS)) * 100).toFixed(1)} % of rate x time)`,
    );
    expect(admitted + refused).toBe(all.length);
    expect(admitted).toBeLessThanOrEqual(Math.ceil(allowed));
    expect(admitted).toBeGreaterThanOrEqual(0.95 * RATE_PER_S * elapsedS);
  }, 60_000);

  it('Redis paused (SIGSTOP): verified credentials keep working until stale_max, writes 503, readyz degraded; recovery < 2 s', async () => {
    const a = cluster.instances[0]!;
    const verified = await token(a, OUTAGE);
    for (const i of cluster.instances) expect(await get(i, verified.access)).toBe(200);
    const unseen = await token(a, OUTAGE); // minted, never used: its jti was never checked
    const toRevoke = await token(a, OUTAGE);

    redis.pause();
    const pausedAt = performance.now();
    try {
      // the circuit opens after a few failed commands (the periodic check alone opens it within ~1.5 s)
      for (const i of cluster.instances) {
        await waitForReady(i, (s, b) => s === 200 && b.store === 'degraded', 5000);
      }
      const metrics = await (await fetch(`${a.adminUrl}/metrics`)).text();
      expect(metrics).toMatch(/^scopegate_store_up 0$/m);

      // already verified: served from the last known state, fast
      const t = performance.now();
      for (const i of cluster.instances) expect(await get(i, verified.access)).toBe(200);
      const verifiedMs = (performance.now() - t) / 3;
      // anything that must be recorded: 503 + Retry-After, never acknowledged
      const refresh = await postForm(a.url, '/oauth/token', OUTAGE, {
        grant_type: 'refresh_token',
        refresh_token: verified.refresh,
      });
      const revoke = await postForm(a.url, '/oauth/revoke', OUTAGE, { token: toRevoke.access });
      const adminRevoke = await adminPost(a, `/admin/clients/${OUTAGE.id}/revoke`);
      const unseenStatus = await get(cluster.instances[1]!, unseen.access);
      console.info(
        `Redis paused: verified credential 200 in ${verifiedMs.toFixed(1)} ms/request; refresh ${refresh.status}, ` +
          `RFC 7009 revoke ${revoke.status}, admin revoke ${adminRevoke.status}, unseen token ${unseenStatus}`,
      );
      for (const r of [refresh, revoke]) {
        expect(r.status).toBe(503);
        expect(r.body.error).toBe('temporarily_unavailable');
      }
      expect(adminRevoke.status).toBe(503);
      expect(adminRevoke.headers.get('retry-after')).toBe('1');
      expect(unseenStatus).toBe(503);

      // past stale_max: verified credentials get 503 with Retry-After too
      const wait = STALE_MAX_MS + 300 - (performance.now() - pausedAt);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const stale = await fetch(`${a.url}/api/menu/1`, { headers: bearer(verified.access) });
      expect(stale.status).toBe(503);
      expect(stale.headers.get('retry-after')).toBe('1');
    } finally {
      redis.resume();
    }
    const resumed = performance.now();
    await Promise.all(cluster.instances.map((i) => waitForReady(i, (s, b) => s === 200 && b.store === 'ok', 5000)));
    const recoveryMs = performance.now() - resumed;
    console.info(`Redis resumed: every instance ready with store ok after ${recoveryMs.toFixed(0)} ms`);
    expect(recoveryMs).toBeLessThan(2000);
    // nothing was recorded during the outage: the refresh token still works once, the client is not revoked
    expect(await get(cluster.instances[2]!, verified.access)).toBe(200);
    expect(await get(cluster.instances[2]!, toRevoke.access)).toBe(200);
    const refreshed = await postForm(a.url, '/oauth/token', OUTAGE, {
      grant_type: 'refresh_token',
      refresh_token: verified.refresh,
    });
    expect(refreshed.status).toBe(200);
  }, 30_000);

  it('Redis killed mid-load and restarted: acknowledged revocations survive, the rest recovers', async () => {
    const a = cluster.instances[0]!;
    const b = cluster.instances[1]!;
    const live = await token(a, OUTAGE);
    const doomed = await token(b, OUTAGE);
    for (const i of cluster.instances) expect(await get(i, live.access)).toBe(200);
    // acknowledged right before the kill
    expect((await postForm(b.url, '/oauth/revoke', OUTAGE, { token: doomed.access })).status).toBe(200);
    revokedTokens.push(doomed.access);

    // background load during the outage
    let loading = true;
    const outcomes = new Map<number, number>();
    const load = (async () => {
      for (let n = 0; loading; n++) {
        const status = await get(cluster.instances[n % 3]!, live.access);
        outcomes.set(status, (outcomes.get(status) ?? 0) + 1);
      }
    })();
    await redis.kill();
    await Promise.all(
      cluster.instances.map((i) => waitForReady(i, (s, b2) => s === 200 && b2.store === 'degraded', 5000)),
    );
    const during = await postForm(a.url, '/oauth/revoke', OUTAGE, { token: live.access });
    expect(during.status).toBe(503);
    const refreshDuring = await postForm(b.url, '/oauth/token', OUTAGE, {
      grant_type: 'refresh_token',
      refresh_token: live.refresh,
    });
    expect(refreshDuring.status).toBe(503);
    expect((await adminPost(b, `/admin/clients/${OUTAGE.id}/revoke`)).status).toBe(503);
    const grant = await postForm(a.url, '/oauth/token', OUTAGE, { grant_type: 'client_credentials' });
    expect(grant.status).toBe(503);
    await redis.restart();
    const restarted = performance.now();
    await Promise.all(cluster.instances.map((i) => waitForReady(i, (s, b2) => s === 200 && b2.store === 'ok', 5000)));
    const recoveryMs = performance.now() - restarted;
    loading = false;
    await load;
    console.info(
      `Redis killed and restarted under load: outcomes ${JSON.stringify(Object.fromEntries(outcomes))}; ` +
        `ready again ${recoveryMs.toFixed(0)} ms after redis-server came back`,
    );
    expect(recoveryMs).toBeLessThan(2000);
    expect([...outcomes.keys()].every((s) => s === 200 || s === 503)).toBe(true);
    // every revocation acknowledged before the kill still holds, on every instance
    for (const [n, t] of revokedTokens.entries()) {
      for (const [k, i] of cluster.instances.entries()) expect(await get(i, t), `revoked #${n} on ${k}`).toBe(401);
    }
    for (const i of cluster.instances) {
      const res = await fetch(`${i.url}/api/menu/1`, { headers: { 'X-Api-Key': PROP.apiKey } });
      expect(res.status, "the revoked client's API key").toBe(401);
    }
    expect(await get(a, live.access)).toBe(200);
    // nothing refused during the outage was recorded: the refresh token still rotates once
    const after = await postForm(a.url, '/oauth/token', OUTAGE, {
      grant_type: 'refresh_token',
      refresh_token: live.refresh,
    });
    expect(after.status).toBe(200);
  }, 30_000);

  it('a gateway restart keeps every revocation', async () => {
    const old = cluster.instances[2]!;
    await cluster.stop(old);
    const fresh = await cluster.start();
    await waitForReady(fresh);
    for (const t of revokedTokens) expect(await get(fresh, t)).toBe(401);
    // and the other instances still agree
    for (const t of revokedTokens) for (const i of cluster.instances) expect(await get(i, t)).toBe(401);
  }, 30_000);

  // last: it blocks the client id for the rest of the window
  it('failed-auth limits are shared: 20/min over three instances refuses the 21st failure wherever it lands', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 24; i++) {
      // from an address no earlier test used (revoked-token checks above count against 127.0.0.1)
      const res = await send(
        cluster.instances[i % 3]!.url,
        'GET',
        '/api/menu/1',
        ['X-Client-Id', 'ghost-client', 'X-Client-Secret', `wrong-secret-${i}`],
        undefined,
        '127.0.0.77',
      );
      statuses.push(res.status);
    }
    console.info(`failed-auth 20/min over 3 instances: ${JSON.stringify(statuses)}`);
    // per-instance counting would allow 3 x 20 failures; shared, the 21st is refused
    expect(statuses.slice(0, 20).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(20).every((s) => s === 429)).toBe(true);
  }, 30_000);
});
