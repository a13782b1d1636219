/**
 * `npm start`: the bundled demo restaurant API on 127.0.0.1:3000 with the gateway in front of it (./gateway.yaml),
 * then curl lines a newcomer can paste.
 */
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { startCommand } from '../commands/start.js';
import { startRestaurantApi } from './restaurant-api.js';

const configPath = resolve(process.env.SCOPEGATE_CONFIG ?? './gateway.yaml');
process.env.SCOPEGATE_ADMIN_TOKEN ??= randomBytes(24).toString('base64url');

const api = await startRestaurantApi({ host: '127.0.0.1', port: Number(process.env.DEMO_API_PORT ?? 3000) });
const gateway = await startCommand({ configPath });
gateway.server.once('close', () => void api.close());
const g = gateway.url;

process.stdout.write(`
scopegate is running at ${g} in front of the demo restaurant API at ${api.url}
admin listener: ${gateway.adminUrl ?? '(off)'}   admin token: ${process.env.SCOPEGATE_ADMIN_TOKEN}

# 1. A public route needs no credentials
curl -i ${g}/api/public/status

# 2. A protected route without credentials: 401 with a Bearer challenge
curl -i ${g}/api/menu

# 3. Get a token (OAuth2 client credentials), then read the menu
TOKEN=$(curl -s -u demo-pos:demo-pos-secret-0123456789abcdef -d grant_type=client_credentials ${g}/oauth/token | node -pe 'JSON.parse(require("fs").readFileSync(0)).access_token')
curl -i -H "Authorization: Bearer $TOKEN" ${g}/api/menu

# 4. The same client may not write the menu: 403 insufficient_scope
curl -i -X POST -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d '{"name":"Soup"}' ${g}/api/menu

# 5. Or use the demo API key, or client id + secret headers
curl -i -H 'X-Api-Key: demo-menu-key-0123456789abcdef0123' ${g}/api/menu
curl -i -H 'X-Client-Id: demo-pos' -H 'X-Client-Secret: demo-pos-secret-0123456789abcdef' ${g}/api/orders

# 6. A token bound to one organization (tenant)
TOKEN=$(curl -s -u demo-booking:demo-booking-secret-0123456789abcd -d grant_type=client_credentials -d organization_id=rest-berlin ${g}/oauth/token | node -pe 'JSON.parse(require("fs").readFileSync(0)).access_token')
curl -i -H "Authorization: Bearer $TOKEN" ${g}/api/organizations/rest-berlin/reservations
curl -i -H "Authorization: Bearer $TOKEN" ${g}/api/organizations/rest-munich/reservations   # 403: other organization

`);
