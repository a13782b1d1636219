/** The admin API's objects as the console reads them (docs/admin-api.md). */
export interface Client {
  id: string;
  name: string | null;
  provider_url: string | null;
  contact: string | null;
  organizations: string[];
  scopes: string[];
  refresh_tokens: boolean;
  rate_limit: string | null;
  expires_at: string | null;
  status: 'active' | 'revoked' | 'expired';
  source: 'file' | 'store';
  created_at: string | null;
}

export interface Credential {
  id: string;
  created_at: string;
  expires_at: string;
  last_used_at: string | null;
  status: 'active' | 'expired';
}

export interface Endpoint {
  path: string;
  read: string[] | null;
  write: string[] | null;
  read_grantable: boolean;
  write_grantable: boolean;
}

export const EXPIRING_MS = 14 * 86_400_000;

/** The console's status: the API's, plus "expiring" when the client or its newest live secret ends within 14 days. */
export function displayStatus(client: Client, secrets: Credential[] | undefined, now: number): string {
  if (client.status !== 'active') return client.status;
  const ends: number[] = [];
  if (client.expires_at) ends.push(Date.parse(client.expires_at));
  const live = (secrets ?? []).filter((s) => s.status === 'active').map((s) => Date.parse(s.expires_at));
  if (live.length > 0) ends.push(Math.max(...live));
  return ends.some((t) => t - now < EXPIRING_MS) ? 'expiring' : 'active';
}

export const STATUS_TEXT: Record<string, string> = {
  active: 'Active',
  expiring: 'Expiring within 14 days',
  expired: 'Expired',
  revoked: 'Revoked',
};

export function lastUse(creds: Credential[]): string | null {
  const times = creds.map((c) => c.last_used_at).filter((t): t is string => t !== null);
  return times.length === 0 ? null : times.sort().at(-1)!;
}

export const clientTitle = (c: Client) => c.name ?? c.id;
