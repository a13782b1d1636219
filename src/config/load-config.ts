import { readFileSync } from 'node:fs';
import { isNode, LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { ConfigError, formatKeyPath, type ConfigProblem, type KeyPath } from './config-error.js';
import { configSchema, type GatewayConfig } from './schema.js';
import { substituteEnv, type EnvProblem } from './substitute-env.js';
import { validateConfig } from './validate-config.js';

/** Locates key paths in the YAML source, for `file:line:col` messages. */
class SourceMap {
  constructor(
    private readonly file: string,
    private readonly doc: Document | undefined,
    private readonly lines: LineCounter,
  ) {}

  problem(path: KeyPath, message: string): ConfigProblem {
    const { line, col } = this.locate(path);
    return { file: this.file, line, col, key: formatKeyPath(path), message };
  }

  private locate(path: KeyPath): { line: number; col: number } {
    // Walk up to the nearest existing node: a missing key is reported where its parent is.
    for (let n = path.length; n >= 0 && this.doc; n--) {
      const node = n === 0 ? this.doc.contents : this.doc.getIn(path.slice(0, n), true);
      if (isNode(node) && node.range) return this.lines.linePos(node.range[0]);
      // For a key that exists, point at the key itself rather than its value.
    }
    return { line: 1, col: 1 };
  }
}

/** zod's union errors say "Invalid input"; report the branch that got furthest instead. */
function flattenIssues(issues: readonly z.core.$ZodIssue[], base: KeyPath = []): { path: KeyPath; message: string }[] {
  const out: { path: KeyPath; message: string }[] = [];
  for (const issue of issues) {
    const path = [...base, ...(issue.path as (string | number)[])];
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      const best = [...issue.errors].sort((a, b) => depth(b) - depth(a) || a.length - b.length)[0]!;
      const nonType = best.every((i) => i.code === 'invalid_type');
      if (!nonType || best.length === 1) {
        out.push(...flattenIssues(best, path));
        continue;
      }
    }
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) out.push({ path: [...path, key], message: `unknown key "${key}"` });
      continue;
    }
    out.push({ path, message: issue.message });
  }
  return out;
}

function depth(issues: readonly z.core.$ZodIssue[]): number {
  return Math.max(0, ...issues.map((i) => i.path.length + (i.code === 'invalid_type' ? 0 : 0.5)));
}

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
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
        return { file, line: pos.line, col: pos.col, key: '', message: e.message.split('\n')[0]! };
      }),
    );
  }
  const raw: unknown = doc.toJS({ maxAliasCount: 100 }) ?? {};
  const envProblems: EnvProblem[] = [];
  const substituted = substituteEnv(raw, options.env ?? process.env, envProblems);
  if (envProblems.length > 0) throw new ConfigError(envProblems.map((p) => source.problem(p.path, p.message)));

  const parsed = configSchema.safeParse(substituted);
  if (!parsed.success) {
    throw new ConfigError(flattenIssues(parsed.error.issues).map((i) => source.problem(i.path, i.message)));
  }
  const problems = validateConfig(parsed.data);
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
