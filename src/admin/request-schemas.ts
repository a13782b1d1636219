import { z } from 'zod';
import { scopeToken } from '../config/schema.js';
import { parseDuration, parseRate } from '../config/units.js';
import { badRequest } from './admin-error.js';

const urlSafeId = z.string().regex(/^[A-Za-z0-9._~-]{1,128}$/, 'use 1 to 128 letters, digits and . _ ~ -');
const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).max(2048);
const time = z.iso.datetime({ offset: true }).transform((v) => Date.parse(v));
const rate = z
  .string()
  .max(32)
  .refine((text) => parseRate(text) !== undefined, 'must be a rate like 50/s or 20/min');

/** SPEC.md 10: durations are YAML-style strings (`30s`, `7d`) or integer seconds; returned in ms. */
export const durationInput = z.union([
  z
    .number()
    .int('a whole number of seconds')
    .min(0)
    .max(10 * 365 * 86_400)
    .transform((s) => s * 1000),
  z
    .string()
    .max(32)
    .transform((text, ctx) => {
      const ms = parseDuration(text);
      if (ms === undefined) ctx.addIssue({ code: 'custom', message: `"${text}" is not a duration like 30s or 7d` });
      return ms ?? 0;
    }),
]);

export const createClientSchema = z.strictObject({
  id: urlSafeId.optional(),
  name: z.string().min(1).max(200),
  provider_url: httpUrl.optional(),
  contact: z.string().min(1).max(320).optional(),
  organizations: z.array(urlSafeId).max(100).optional(),
  scopes: z.array(scopeToken).max(500),
  refresh_tokens: z.boolean().optional(),
  rate_limit: rate.optional(),
  expires_at: time.optional(),
});

export const updateClientSchema = z.strictObject({
  name: z.string().min(1).max(200).optional(),
  provider_url: httpUrl.nullable().optional(),
  contact: z.string().min(1).max(320).nullable().optional(),
  organizations: z.array(urlSafeId).max(100).optional(),
  scopes: z.array(scopeToken).max(500).optional(),
  refresh_tokens: z.boolean().optional(),
  rate_limit: rate.nullable().optional(),
  expires_at: time.nullable().optional(),
});

export const rotateSchema = z.strictObject({
  overlap: durationInput.optional(),
  expires_in: durationInput.optional(),
});

export const mintSchema = z.strictObject({
  scope: z.string().max(4096).optional(),
  organization_id: urlSafeId.optional(),
  expires_in: durationInput.optional(),
});

/** Parses a body with a schema; the first problem is a 400 naming its field. */
export function parseBody<T extends z.ZodType>(schema: T, body: unknown): z.output<T> {
  const result = schema.safeParse(body ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const keys = issue.code === 'unrecognized_keys' ? issue.keys : [];
  const path = [...issue.path, ...keys.slice(0, 1)].map(String).join('.');
  const message = issue.code === 'unrecognized_keys' ? `unknown field ${keys.join(', ')}` : issue.message;
  throw badRequest(path ? `${path}: ${message}` : message, path || 'body');
}
