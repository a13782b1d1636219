import { OAuthError } from './oauth-error.js';

export interface ChallengeContext {
  realm: string;
  /** RFC 9728 5.1: the protected-resource metadata URL, named in every Bearer challenge */
  resourceMetadata?: string;
}

export interface RenderedError {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** RFC 6750 3: auth-param values are quoted-strings; error_description excludes `"` and `\` (%x20-21 / %x23-5B / %x5D-7E). */
function quoted(value: string): string {
  return `"${value.replace(/[^\x20\x21\x23-\x5B\x5D-\x7E]/g, '')}"`;
}

export function challengeHeader(err: OAuthError, ctx: ChallengeContext): string | undefined {
  if (err.challenge === 'none') return undefined;
  if (err.challenge === 'basic') return `Basic realm=${quoted(ctx.realm)}`;
  const params = [`realm=${quoted(ctx.realm)}`];
  if (err.challenge === 'bearer') {
    params.push(`error=${quoted(err.options.challengeError ?? err.code)}`);
    if (err.code !== 'invalid_client') params.push(`error_description=${quoted(err.description)}`);
    if (err.options.scope && err.options.scope.length > 0) params.push(`scope=${quoted(err.options.scope.join(' '))}`);
  }
  if (ctx.resourceMetadata) params.push(`resource_metadata=${quoted(ctx.resourceMetadata)}`);
  return `Bearer ${params.join(', ')}`;
}

/** Any thrown value -> status, headers and JSON body; 5xx details never leave the process. */
export function renderError(err: unknown, ctx: ChallengeContext): RenderedError {
  const e = err instanceof OAuthError ? err : new OAuthError(500, 'server_error', 'internal error', 'none');
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    'Cache-Control': 'no-store',
    Pragma: 'no-cache',
    ...e.options.headers,
  };
  const challenge = challengeHeader(e, ctx);
  if (challenge) headers['WWW-Authenticate'] = challenge;
  const description = e.status >= 500 && !(err instanceof OAuthError) ? 'internal error' : e.description;
  return { status: e.status, headers, body: JSON.stringify({ error: e.code, error_description: description }) };
}
