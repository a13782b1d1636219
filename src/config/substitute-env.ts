import type { KeyPath } from './config-error.js';

export interface EnvProblem {
  path: KeyPath;
  message: string;
}

/**
 * Replaces `${NAME}` in every string value with the environment variable NAME. A missing variable is a problem at
 * that key (never an empty string: an unset secret must not become an empty, guessable one). `$${NAME}` stays literal.
 */
export function substituteEnv(
  value: unknown,
  env: NodeJS.ProcessEnv,
  problems: EnvProblem[],
  path: (string | number)[] = [],
  /** collects the dotted paths of values that are exactly one `${NAME}` reference */
  fromEnv?: Set<string>,
): unknown {
  if (typeof value === 'string') {
    if (fromEnv && /^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/.test(value)) fromEnv.add(path.join('.'));
    return value.replace(/(\$?)\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (whole, escape: string, name: string) => {
      if (escape) return whole.slice(1);
      const v = env[name];
      if (v === undefined) {
        problems.push({ path: [...path], message: `environment variable ${name} is not set` });
        return '';
      }
      return v;
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => substituteEnv(v, env, problems, [...path, i], fromEnv));
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    // fromEntries defines own properties: `out[k] = v` with k = "__proto__" would set the prototype instead, hiding
    // the key from the unknown-key check and letting its value be inherited as defaults.
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, substituteEnv(v, env, problems, [...path, k], fromEnv)]),
    );
  }
  return value;
}
