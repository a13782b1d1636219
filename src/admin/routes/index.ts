import type { AdminRoute } from '../admin-context.js';
import { openApiDocument } from '../openapi.js';
import { apiKeyRoutes } from './api-keys.js';
import { auditRoutes } from './audit.js';
import { catalogRoutes } from './catalog.js';
import { clientRoutes } from './clients.js';
import { refreshTokenRoutes } from './refresh-tokens.js';
import { secretRoutes } from './secrets.js';

const resourceRoutes: AdminRoute[] = [
  ...catalogRoutes,
  ...clientRoutes,
  ...secretRoutes,
  ...apiKeyRoutes,
  ...refreshTokenRoutes,
  ...auditRoutes,
];

/** Every admin route (SPEC.md 10); the router, the OpenAPI document and the role test walk this table. */
export const ADMIN_ROUTES: AdminRoute[] = [
  ...resourceRoutes,
  {
    method: 'GET',
    path: '/admin/openapi.json',
    write: false,
    summary: 'This OpenAPI 3.1 document',
    handler: async () => ({ status: 200, body: openApiDocument(ADMIN_ROUTES) }),
  },
];
