/**
 * The JSON Schema of gateway.yaml for editors (`# yaml-language-server: $schema=...`), generated from the zod schema
 * so the two cannot drift: `npm run schema` writes config/gateway.schema.json, and a test fails when it is stale.
 */
import { existsSync, realpathSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { z } from 'zod';
import { configSchema } from './schema.js';

/**
 * A string holding a `${NAME}` reference (not the literal `$${NAME}`): the gateway substitutes it before validating,
 * so the editor must not flag `admin_token: ${ADMIN_TOKEN}` as too short or `url: ${UPSTREAM_URL}` as no URL.
 */
const ENV_REFERENCE = {
  type: 'string',
  pattern: '(^|[^$])\\$\\{[A-Za-z_][A-Za-z0-9_]*\\}',
  description: 'replaced by the environment variable NAME when the config is loaded, then checked',
};

const ENV_REFERENCE_REF = '#/$defs/envReference';

/** Keywords that constrain a string's text, which a `${NAME}` reference cannot meet before substitution. */
const STRING_CONSTRAINTS = ['pattern', 'format', 'minLength', 'maxLength', 'enum', 'const'];
/** Keywords that only describe, kept on the outside so editors still show them on hover and completion. */
const ANNOTATIONS = ['title', 'description', 'default'];

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function isEmptySchema(value: Json): boolean {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length === 0;
}

/** Adapts zod's output to what an editor sees: the YAML text before `${NAME}` substitution. */
function forEditors(node: Json): Json {
  if (Array.isArray(node)) return node.map(forEditors);
  if (node === null || typeof node !== 'object') return node;
  let obj: { [key: string]: Json } = Object.fromEntries(Object.entries(node).map(([k, v]) => [k, forEditors(v)]));
  if (Array.isArray(obj.anyOf)) {
    // `{}` is how zod renders the unrepresentable z.date() (expires_at), which YAML 1.2 never produces: dropping it
    // keeps `anyOf` from accepting anything at all.
    const branches = obj.anyOf.filter((b) => !isEmptySchema(b));
    const rest = Object.fromEntries(Object.entries(obj).filter(([k]) => k !== 'anyOf'));
    obj =
      branches.length === 1 ? { ...rest, ...(branches[0] as { [key: string]: Json }) } : { ...rest, anyOf: branches };
  }
  if (obj.type === 'string' && STRING_CONSTRAINTS.some((k) => k in obj)) {
    const outer = Object.fromEntries(Object.entries(obj).filter(([k]) => ANNOTATIONS.includes(k)));
    const inner = Object.fromEntries(Object.entries(obj).filter(([k]) => !ANNOTATIONS.includes(k)));
    return { ...outer, anyOf: [inner, { $ref: ENV_REFERENCE_REF }] };
  }
  return obj;
}

/** The JSON Schema of gateway.yaml (draft 2020-12), as written to config/gateway.schema.json. */
export function buildJsonSchema(): object {
  const generated = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as { [key: string]: Json };
  const { $schema, $defs, ...rest } = forEditors(generated) as { [key: string]: Json };
  return {
    $schema: $schema ?? 'https://json-schema.org/draft/2020-12/schema',
    title: 'scopegate gateway.yaml',
    description: 'Configuration of the scopegate API gateway. Generated from src/config/schema.ts by `npm run schema`.',
    ...rest,
    $defs: { ...(typeof $defs === 'object' && $defs !== null ? $defs : {}), envReference: ENV_REFERENCE },
  };
}

/** The file's exact text: two-space JSON with a trailing newline. */
export function renderJsonSchema(): string {
  return `${JSON.stringify(buildJsonSchema(), null, 2)}\n`;
}

/** The package root: the nearest folder above this module with a package.json (works from src/ and dist/src/). */
export function packageRoot(from: string = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

export function jsonSchemaPath(): string {
  return join(packageRoot(), 'config', 'gateway.schema.json');
}

function isMain(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(script)).href;
  } catch {
    return false;
  }
}

// `node dist/src/config/write-json-schema.js [OUT]`: writes the schema to OUT, by default into the package's config/.
if (isMain()) {
  const file = process.argv[2] ?? jsonSchemaPath();
  writeFileSync(file, renderJsonSchema());
  console.log(`wrote ${relative(process.cwd(), file) || file}`);
}
