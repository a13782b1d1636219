import { generateJwk } from '../issuer/keys.js';

const SUPPORTED = ['ES256', 'ES384', 'ES512', 'RS256', 'PS256', 'EdDSA'];

/** `scopegate keygen [--alg ES256]`: a new private JWK, for the `issuer.keys` folder. */
export async function keygenCommand(alg = 'ES256'): Promise<string> {
  if (!SUPPORTED.includes(alg)) throw new Error(`unsupported algorithm ${alg}; use one of ${SUPPORTED.join(', ')}`);
  return JSON.stringify(await generateJwk(alg), null, 2);
}
