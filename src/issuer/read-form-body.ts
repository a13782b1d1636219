/**
 * Reading a token or revocation request body (RFC 6749 3.2, Appendix B): `application/x-www-form-urlencoded` only,
 * at most 64 KiB (chunked bodies without Content-Length included), every parameter at most once.
 */
import type { IncomingMessage } from 'node:http';
import { payloadTooLarge } from '../errors/oauth-error.js';
import { issuerMisconfigured, tokenInvalidRequest } from './token-errors.js';

export const TOKEN_BODY_LIMIT = 64 * 1024;

/** Parameters of a request, each present at most once; parameters sent without a value count as omitted. */
export type FormParams = ReadonlyMap<string, string>;

/** True for `application/x-www-form-urlencoded`, with or without parameters such as `charset`. */
export function isFormContentType(header: string | undefined): boolean {
  if (header === undefined) return false;
  return header.split(';', 1)[0]!.trim().toLowerCase() === 'application/x-www-form-urlencoded';
}

/**
 * Parses a form body. RFC 6749 3.2: "Request and response parameters MUST NOT be included more than once", so a
 * repeated name is invalid_request (URLSearchParams keeps both, which is how repeats are seen); RFC 6749 3.1:
 * "Parameters sent without a value MUST be treated as if they were omitted".
 */
export function parseForm(body: string): FormParams {
  const params = new Map<string, string>();
  const seen = new Set<string>();
  for (const [name, value] of new URLSearchParams(body)) {
    if (seen.has(name)) throw tokenInvalidRequest(`parameter "${printable(name)}" is repeated`, 'repeated_parameter');
    seen.add(name);
    if (value !== '') params.set(name, value);
  }
  return params;
}

/** Reads and parses the body of `req`; throws 413 over `limit` bytes and invalid_request for another media type. */
export async function readFormBody(req: IncomingMessage, limit = TOKEN_BODY_LIMIT): Promise<FormParams> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) throw payloadTooLarge(limit);
  if (!isFormContentType(req.headers['content-type'])) {
    throw tokenInvalidRequest('the body must be application/x-www-form-urlencoded', 'wrong_content_type');
  }
  // A body parser mounted before the issuer would have drained the stream: waiting for it would hang forever.
  if (req.readableEnded && declared !== undefined && declared !== '0') throw issuerMisconfigured('body_consumed');
  return parseForm((await readBody(req, limit)).toString('utf8'));
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  if (req.readableEnded) return Promise.resolve(Buffer.alloc(0));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('aborted', onError);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        // Stop reading; the response closes the connection (the rest of the body is never read).
        req.pause();
        reject(payloadTooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(Buffer.concat(chunks, size));
    };
    const onError = () => {
      cleanup();
      reject(tokenInvalidRequest('the request body could not be read', 'body_incomplete'));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('aborted', onError);
  });
}

/** A parameter name for an error message: printable ASCII only, shortened. */
function printable(name: string): string {
  return name.replace(/[^\x20-\x7E]/g, '?').slice(0, 64);
}
