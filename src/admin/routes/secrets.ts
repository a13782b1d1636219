import type { AdminRoute } from '../admin-context.js';
import { deleteCredential, issueCredential, listCredentials } from './credentials.js';

export const secretRoutes: AdminRoute[] = [
  {
    method: 'POST',
    path: '/admin/clients/{id}/secrets',
    write: true,
    summary: 'Rotate: add a secret, end the older one after the overlap',
    handler: (req, ctx) => issueCredential('secrets', req, ctx),
  },
  {
    method: 'GET',
    path: '/admin/clients/{id}/secrets',
    write: false,
    summary: 'List secrets (never a value)',
    handler: (req, ctx) => listCredentials('secrets', req, ctx),
  },
  {
    method: 'DELETE',
    path: '/admin/clients/{id}/secrets/{sid}',
    write: true,
    summary: 'Delete a secret',
    handler: (req, ctx) => deleteCredential('secrets', req, ctx),
  },
];
