/** The upstream's whole answer; the parent checks every setup returns exactly this. */
export const UPSTREAM_BODY = '{"ok":true,"items":[{"id":1,"name":"soup"}]}';

/** What the parent tells every setup child, through the environment. */
export interface BenchEnv {
  upstream: string;
  /** base URL of the JWKS server: `${jwks}/local`, `${jwks}/idp` */
  jwks: string;
  issuer: string;
  audience: string;
  /** scopegate's gateway.yaml */
  config: string;
}

export function benchEnv(): BenchEnv {
  const get = (name: string) => {
    const value = process.env[name];
    if (value === undefined) throw new Error(`${name} is not set (run the benchmark with npm run bench)`);
    return value;
  };
  return {
    upstream: get('BENCH_UPSTREAM'),
    jwks: get('BENCH_JWKS_URL'),
    issuer: get('BENCH_ISSUER'),
    audience: get('BENCH_AUDIENCE'),
    config: process.env.BENCH_CONFIG ?? '',
  };
}
