import { hashSecret, hashApiKey } from '../src/auth/secret-hash.ts';
console.log(await hashSecret('demo-pos-secret-0123456789abcdef'));
console.log(hashApiKey('demo-menu-key-0123456789abcdef0123'));
console.log(await hashSecret('demo-booking-secret-0123456789abcd'));
