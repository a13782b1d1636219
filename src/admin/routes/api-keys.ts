import type { AdminRoute } from '../admin-context.js';
import { deleteCredential, issueCredential, listCredentials } from './credentials.js';

export const apiKeyRoutes: AdminRoute[] = [
  {
    method: 'POST',
    path: '/admin/clients/{id}/api-keys',
    write: true,
    summary: 'Rotate: add an API key, end the older one after the overlap',
    handler: (req, ctx) => issueCredential('api_keys', req, ctx),
  },
  {
    method: 'GET',
    path: '/admin/clients/{id}/api-keys',
    write: false,
    summary: 'List API keys (never a value)',
    handler: (req, ctx) => listCredentials('api_keys', req, ctx),
  },
  {
    method: 'DELETE',
    path: '/admin/clients/{id}/api-keys/{kid}',
    write: true,
    summary: 'Delete an API key',
    handler: (req, ctx) => deleteCredential('api_keys', req, ctx),
  },
];
