import type { AdminRoute } from './admin-context.js';

const errorRef = { $ref: '#/components/schemas/Error' };
const json = (schema: unknown) => ({ 'application/json': { schema } });
const errors = {
  '400': { description: 'invalid_request (with field)', content: json(errorRef) },
  '401': { description: 'no or bad admin token', content: json(errorRef) },
  '403': { description: 'forbidden: outside the role or organization', content: json(errorRef) },
  '404': { description: 'not_found', content: json(errorRef) },
  '409': { description: 'conflict: read-only file client or id taken', content: json(errorRef) },
  '412': { description: 'precondition_failed: stale If-Match', content: json(errorRef) },
  '422': { description: 'grant_not_licensed (with scopes)', content: json(errorRef) },
  '503': { description: 'temporarily_unavailable: the store failed, nothing changed', content: json(errorRef) },
};

const duration = {
  oneOf: [
    { type: 'string', examples: ['7d'] },
    { type: 'integer', minimum: 0 },
  ],
};
const credential = {
  type: 'object',
  required: ['id', 'value', 'expires_at'],
  properties: {
    id: { type: 'string' },
    value: { type: 'string' },
    expires_at: { type: 'string', format: 'date-time' },
  },
};

const schemas = {
  Error: {
    type: 'object',
    required: ['error', 'error_description'],
    properties: {
      error: { type: 'string' },
      error_description: { type: 'string' },
      field: { type: 'string' },
      scopes: { type: 'array', items: { type: 'string' } },
    },
  },
  Client: {
    type: 'object',
    required: ['id', 'name', 'organizations', 'scopes', 'refresh_tokens', 'status', 'source'],
    properties: {
      id: { type: 'string' },
      name: { type: ['string', 'null'] },
      provider_url: { type: ['string', 'null'] },
      contact: { type: ['string', 'null'] },
      organizations: { type: 'array', items: { type: 'string' } },
      scopes: { type: 'array', items: { type: 'string' } },
      refresh_tokens: { type: 'boolean' },
      rate_limit: { type: ['string', 'null'] },
      expires_at: { type: ['string', 'null'], format: 'date-time' },
      status: { enum: ['active', 'revoked', 'expired'] },
      source: { enum: ['file', 'store'] },
      created_at: { type: ['string', 'null'], format: 'date-time' },
    },
  },
  ClientInput: {
    type: 'object',
    additionalProperties: false,
    properties: {
      id: { type: 'string' },
      name: { type: 'string' },
      provider_url: { type: 'string', format: 'uri' },
      contact: { type: 'string' },
      organizations: { type: 'array', items: { type: 'string' } },
      scopes: { type: 'array', items: { type: 'string' } },
      refresh_tokens: { type: 'boolean' },
      rate_limit: { type: 'string', examples: ['50/s'] },
      expires_at: { type: 'string', format: 'date-time' },
    },
  },
  Rotate: { type: 'object', properties: { overlap: duration, expires_in: duration } },
  Mint: {
    type: 'object',
    properties: { scope: { type: 'string' }, organization_id: { type: 'string' }, expires_in: duration },
  },
  Credential: credential,
};

const requestBodies: Record<string, string> = {
  'POST /admin/clients': 'ClientInput',
  'PATCH /admin/clients/{id}': 'ClientInput',
  'POST /admin/clients/{id}/secrets': 'Rotate',
  'POST /admin/clients/{id}/api-keys': 'Rotate',
  'POST /admin/clients/{id}/refresh-tokens': 'Mint',
};

/** The OpenAPI 3.1 document of the admin API, built from the same route table as the router. */
export function openApiDocument(routes: readonly AdminRoute[]): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const params = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => ({
      name: m[1],
      in: 'path',
      required: true,
      schema: { type: 'string' },
    }));
    const body = requestBodies[`${route.method} ${route.path}`];
    paths[route.path] ??= {};
    paths[route.path]![route.method.toLowerCase()] = {
      summary: route.summary,
      operationId: `${route.method.toLowerCase()}${route.path.replace(/[^A-Za-z]+(\w)?/g, (_m, c?: string) => (c ? c.toUpperCase() : ''))}`,
      ...(params.length > 0 ? { parameters: params } : {}),
      ...(body
        ? {
            requestBody: {
              required: route.method === 'POST' && body === 'ClientInput',
              content: json({ $ref: `#/components/schemas/${body}` }),
            },
          }
        : {}),
      responses: {
        [route.method === 'DELETE'
          ? '204'
          : route.method === 'POST' &&
              route.path !== '/admin/clients/{id}/revoke' &&
              route.path !== '/admin/clients/{id}/restore'
            ? '201'
            : '200']: {
          description: 'success',
          ...(route.method === 'DELETE' ? {} : { content: json({ type: 'object' }) }),
        },
        ...errors,
      },
      ...(route.write ? {} : { 'x-read-only': true }),
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'scopegate admin API', version: '1.0.0', description: 'SPEC.md section 10' },
    security: [{ adminToken: [] }],
    components: { securitySchemes: { adminToken: { type: 'http', scheme: 'bearer' } }, schemas },
    paths,
  };
}
