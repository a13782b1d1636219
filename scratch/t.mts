import { configSchema } from '../src/config/schema.ts';
import { z } from 'zod';
const r = configSchema.safeParse({ server: { listen: '127.0.0.1:8080', bogus: 1 }, routes: [{ path: '/a/**', scopes: { read: ['a'], any: ['x'] } }], clients: [{id: 'x', expires_at: '2027-06-30T00:00:00Z'}]});
console.log(JSON.stringify(r.error?.issues ?? r.data, null, 1));
const ok = configSchema.parse({routes:[{path:'/a', scopes: {any: ['x']}}], clients:[{id:'x', expires_at: '2027-06-30T00:00:00Z'}]});
console.log(JSON.stringify(ok));
console.log(JSON.stringify(z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' })).slice(0, 600));
