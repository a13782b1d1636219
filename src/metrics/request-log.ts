/** The parts of a request log line (SPEC.md 7): one JSON line per request. */
export interface RequestLog {
  method: string;
  path?: string;
  /** the client's address: the peer, or behind `server.trusted_proxies` the forwarded client */
  client_address?: string;
  route?: string;
  client_id?: string;
  /** who vouches for client_id (SPEC.md 6): equal ids of two issuers are two clients */
  issuer?: string;
  auth_method?: string;
  decision: 'allow' | 'deny' | 'would_deny';
  reason?: string;
  status?: number;
  latency_ms?: number;
  upstream_error?: string;
}
