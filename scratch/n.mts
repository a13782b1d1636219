import { normalizeTarget } from '../src/routing/normalize-path.ts';
import { parsePattern, matchPattern } from '../src/routing/route-pattern.ts';
for (const t of ['/', '/a/b', '/a//b/', '/a/./b/../c', '/a/%2e%2E/b', '/api/public/..%2fmenu', '/a/%41%2a%3b', '/a/b/..', '/../../x', '/a?x=1&y', '/%ZZ', '/a\\b', '/caf%C3%A9', '/%FF', '/a/.', '/a/b/']) console.log(t, JSON.stringify(normalizeTarget(t)));
const p = parsePattern('/api/menu/**');
for (const s of [['api','menu'], ['api','menu',''], ['api','menu','x','y'], ['api','menus'], ['api']]) console.log(s, matchPattern(p, s));
const q = parsePattern('/api/organizations/:org/reservations/**');
console.log(matchPattern(q, ['api','organizations','rest-berlin','reservations','1']));
const r = parsePattern('/**/x/**/y');
console.log(matchPattern(r, ['a','x','b','x','y']), matchPattern(r, ['a','x','b']));
