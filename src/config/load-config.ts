import { readFileSync } from 'node:fs';
import { isAlias, isMap, isNode, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { z } from 'zod';
import { ConfigError, formatKeyPath, type ConfigProblem, type KeyPath } from './config-error.js';
import { configSchema, type GatewayConfig } from './schema.js';
import { substituteEnv, type EnvProblem } from './substitute-env.js';
import { validateConfig, validateServingConfig } from './validate-config.js';

/** Where a problem points: at the offending value, or (for an unknown key) at the key itself. */
type Target = 'value' | 'key';

/** Locates key paths in the YAML source, for `file:line:col` messages. */
class SourceMap {
  constructor(
    private readonly file: string,
    private readonly doc: Document | undefined,
    private readonly lines: LineCounter,
  ) {}

  problem(path: KeyPath, message: string, target: Target = 'value'): ConfigProblem {
    const { line, col } = this.locate(path, target);
    return { file: this.file, line, col, key: formatKeyPath(path), message };
  }

  /**
   * Walks the YAML tree along the path. A path that exists points at its value (or, for `target: 'key'`, at the key);
   * a missing key is reported at the deepest key that exists, i.e. where it should have been written.
   */
  private locate(path: KeyPath, target: Target): { line: number; col: number } {
    if (!this.doc) return { line: 1, col: 1 };
    let node: unknown = this.doc.contents;
    let at = isNode(node) ? node.range : undefined;
    let keyAt = at;
    let found = true;
    for (const part of path) {
      if (isAlias(node)) node = node.resolve(this.doc);
      if (isMap(node)) {
        const pair = node.items.find((p) => String(isScalar(p.key) ? p.key.value : p.key) === String(part));
        if (!pair) {
          found = false;
          break;
        }
        keyAt = (isNode(pair.key) && pair.key.range) || keyAt;
        node = pair.value;
      } else if (isSeq(node) && typeof part === 'number' && isNode(node.items[part])) {
        node = node.items[part];
        keyAt = (node as Node).range ?? keyAt;
      } else {
        found = false;
        break;
      }
      at = (isNode(node) && node.range) || keyAt;
    }
    const range = found && target === 'value' ? at : keyAt;
    return range ? this.lines.linePos(range[0]) : { line: 1, col: 1 };
  }
}

interface FlatIssue {
  path: KeyPath;
  message: string;
  target?: Target;
}

/** A key that is absent altogether (YAML never yields `undefined`: an empty value is null). */
function isMissing(issue: z.core.$ZodIssue): boolean {
  return issue.code === 'invalid_type' && 'input' in issue && issue.input === undefined;
}

/** The branches of a union, with unions nested at the same place (a union member that is a union) opened up. */
function unionBranches(issue: z.core.$ZodIssue & { code: 'invalid_union' }): z.core.$ZodIssue[][] {
  return issue.errors.flatMap((branch) => {
    const only = branch.length === 1 ? branch[0]! : undefined;
    return only?.code === 'invalid_union' && only.path.length === 0 && only.errors.length > 0
      ? unionBranches(only)
      : [branch];
  });
}

/** A branch that failed on the kind of the value itself (a list where a map is expected): it is not what was meant. */
function wrongKind(branch: readonly z.core.$ZodIssue[]): boolean {
  return branch.some((i) => i.path.length === 0 && (i.code === 'invalid_type' || i.code === 'invalid_value'));
}

/** How far a branch is from fitting: unknown and missing keys first (they show a wrong branch), then all issues. */
function distance(branch: readonly z.core.$ZodIssue[]): [number, number] {
  let structural = 0;
  let total = 0;
  for (const i of branch) {
    const n = i.code === 'unrecognized_keys' ? i.keys.length : 1;
    total += n;
    if (i.code === 'unrecognized_keys' || isMissing(i)) structural += n;
  }
  return [structural, total];
}

const KIND_NAMES: Record<string, string> = {
  array: 'a list',
  object: 'a map',
  record: 'a map',
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  date: 'a date',
  null: 'nothing',
};

function kindOf(value: unknown): string {
  if (value === null) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (value instanceof Date) return 'a date';
  if (typeof value === 'object') return 'a map';
  return KIND_NAMES[typeof value] ?? typeof value;
}

/** "expected "none" or a list, got a string": what each branch of a union wanted at this place, and what it got. */
function unionMessage(issue: z.core.$ZodIssue & { code: 'invalid_union' }, branches: z.core.$ZodIssue[][]): string {
  const wanted = new Set<string>();
  for (const branch of branches) {
    for (const i of branch) {
      if (i.path.length > 0) continue;
      if (i.code === 'invalid_type') wanted.add(KIND_NAMES[i.expected] ?? i.expected);
      if (i.code === 'invalid_value') for (const v of i.values) wanted.add(JSON.stringify(v));
    }
  }
  const list = [...wanted];
  if (list.length === 0) return issue.message;
  const expected = list.length === 1 ? list[0]! : `${list.slice(0, -1).join(', ')} or ${list.at(-1)!}`;
  return 'input' in issue ? `expected ${expected}, got ${kindOf(issue.input)}` : `expected ${expected}`;
}

/** Keys that were replaced: an old config names its successor instead of a bare "unknown key". */
const RENAMED: Record<string, string> = {
  'server.trust_forwarded_for':
    '"trust_forwarded_for" was replaced by "trusted_proxies": list the addresses or CIDR blocks of the proxies ' +
    'whose X-Forwarded-For names the client (e.g. trusted_proxies: [10.0.0.0/8])',
};

/**
 * Turns zod issues into one message per problem. zod reports a failed union as "Invalid input"; instead, follow the
 * branch that fits the value best (so `scopes: {GETS: [...]}` says that GETS is unknown), or, where the value fits no
 * branch's kind at all, say which kinds are accepted.
 */
function flattenIssues(issues: readonly z.core.$ZodIssue[], base: KeyPath = []): FlatIssue[] {
  const out: FlatIssue[] = [];
  for (const issue of issues) {
    const path = [...base, ...(issue.path as (string | number)[])];
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      const branches = unionBranches(issue);
      const fitting = branches.filter((b) => !wrongKind(b));
      if (fitting.length === 0) {
        out.push({ path, message: unionMessage(issue, branches) });
        continue;
      }
      const best = fitting.reduce((a, b) => {
        const [da, db] = [distance(a), distance(b)];
        return db[0] < da[0] || (db[0] === da[0] && db[1] < da[1]) ? b : a;
      });
      out.push(...flattenIssues(best, path));
      continue;
    }
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const renamed = RENAMED[[...path, key].join('.')];
        out.push({ path: [...path, key], message: renamed ?? `unknown key "${key}"`, target: 'key' });
      }
      continue;
    }
    if (isMissing(issue) && path.length > 0) {
      out.push({ path, message: `missing required key "${String(path.at(-1))}"` });
      continue;
    }
    out.push({ path, message: issue.message });
  }
  return out;
}

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
  /** library mode: a config object may carry a client secret read by the host program */
  allowLiteralSecrets?: boolean;
  /** the config will serve traffic (start, reload, check): no routes is an error unless `allow_no_routes` */
  serving?: boolean;
}

/**
 * Parses YAML text into a validated config. Throws ConfigError listing every problem with file, line, col and key.
 */
export function parseConfig(text: string, file: string, options: LoadOptions = {}): GatewayConfig {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const source = new SourceMap(file, doc, lines);
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e) => {
        const pos = lines.linePos(e.pos[0]);
        // yaml says only "Map keys must be unique"; name the key, as it stands in the source at the error.
        const dup =
          e.code === 'DUPLICATE_KEY' ? /^([^\s:,{}[\]"']+)\s*:/.exec(text.slice(e.pos[0], e.pos[0] + 200)) : null;
        const message = dup ? `duplicate key "${dup[1]!}"` : e.message.split('\n')[0]!;
        return { file, line: pos.line, col: pos.col, key: '', message };
      }),
    );
  }
  const raw: unknown = doc.toJS({ maxAliasCount: 100 }) ?? {};
  const envProblems: EnvProblem[] = [];
  const fromEnv = new Set<string>();
  const substituted = substituteEnv(raw, options.env ?? process.env, envProblems, [], fromEnv);
  if (envProblems.length > 0) throw new ConfigError(envProblems.map((p) => source.problem(p.path, p.message)));

  // reportInput lets a missing key be told from a wrong value, and names the kind of a value that fits no union branch.
  const parsed = configSchema.safeParse(substituted, { reportInput: true });
  if (!parsed.success) {
    throw new ConfigError(flattenIssues(parsed.error.issues).map((i) => source.problem(i.path, i.message, i.target)));
  }
  const problems = validateConfig(parsed.data);
  if (options.serving) problems.push(...validateServingConfig(parsed.data));
  if (!options.allowLiteralSecrets) {
    // SPEC.md 3: client secrets live in the file only as hashes or ${ENV} references, never in clear.
    parsed.data.clients.forEach((c, i) => {
      if (c.secret !== undefined && !fromEnv.has(`clients.${i}.secret`)) {
        problems.push({
          path: ['clients', i, 'secret'],
          message: 'write a plain secret as a ${ENV} reference, or use secret_hash',
        });
      }
    });
  }
  if (problems.length > 0) throw new ConfigError(problems.map((p) => source.problem(p.path, p.message)));
  return parsed.data;
}

/** Reads and validates a gateway.yaml. */
export function loadConfigFile(file: string, options: LoadOptions = {}): GatewayConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new ConfigError([{ file, line: 1, col: 1, key: '', message: `cannot read config file (${code})` }]);
  }
  return parseConfig(text, file, options);
}
