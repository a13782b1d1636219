/** One problem in a config file, located by file, line, column and key path. */
export interface ConfigProblem {
  file: string;
  line: number;
  col: number;
  /** dotted key path, e.g. `routes[2].scopes.GET` */
  key: string;
  message: string;
}

export function formatProblem(p: ConfigProblem): string {
  return `${p.file}:${p.line}:${p.col} ${p.key ? `${p.key}: ` : ''}${p.message}`;
}

/** Thrown when a config cannot be used; `message` lists every problem as `file:line:col key: message`. */
export class ConfigError extends Error {
  readonly problems: ConfigProblem[];
  constructor(problems: ConfigProblem[]) {
    super(problems.map(formatProblem).join('\n'));
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export type KeyPath = ReadonlyArray<string | number>;

export function formatKeyPath(path: KeyPath): string {
  let out = '';
  for (const part of path) out += typeof part === 'number' ? `[${part}]` : out ? `.${part}` : part;
  return out;
}
