import type { ErrorRequestHandler } from 'express';
import { OAuthError } from '../errors/oauth-error.js';
import { renderError, type ChallengeContext } from '../errors/render-error.js';
import { challengeOf } from './scopegate-middleware.js';

/**
 * Express error handler that renders scopegate's errors (RFC 6750 status, WWW-Authenticate, JSON body,
 * `Cache-Control: no-store`); anything else goes on to the app's next error handler.
 */
export function oauthErrorHandler(defaults: Partial<ChallengeContext> = {}): ErrorRequestHandler {
  return (err, _req, res, next) => {
    if (!(err instanceof OAuthError) || res.headersSent) return next(err);
    const ctx = { realm: 'scopegate', ...defaults, ...challengeOf(res) };
    const rendered = renderError(err, ctx);
    // res.send would append `; charset=utf-8`; clients such as the Amadeus SDK want exactly application/json.
    res.writeHead(rendered.status, rendered.headers).end(rendered.body);
  };
}
