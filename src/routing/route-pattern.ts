/**
 * Route patterns: `/api/menu/**`, `/api/organizations/:org/reservations/*`.
 * `*` is one non-empty segment, `:name` one non-empty segment captured, `**` any number of segments (including none).
 * Literal segments compare case-sensitively against the decoded path segments.
 */
export type PatternSegment = { kind: 'literal'; value: string } | { kind: 'one'; param?: string } | { kind: 'many' };

export interface Pattern {
  source: string;
  segments: PatternSegment[];
  params: string[];
}

const PARAM = /^:([A-Za-z_][A-Za-z0-9_]*)$/;

/** Splits a path (pattern or normalized request path) into segments: `/` -> [''], `/a/` -> ['a', '']. */
export function splitPath(path: string): string[] {
  return path.slice(1).split('/');
}

export function parsePattern(source: string): Pattern {
  if (!source.startsWith('/')) throw new Error('a route path starts with /');
  const params: string[] = [];
  const segments = splitPath(source).map((seg, i, all): PatternSegment => {
    if (seg === '**') return { kind: 'many' };
    if (seg === '*') return { kind: 'one' };
    if (seg.startsWith(':')) {
      const m = PARAM.exec(seg);
      if (!m) throw new Error(`"${seg}" is not a valid parameter name`);
      if (params.includes(m[1]!)) throw new Error(`parameter :${m[1]} appears twice`);
      params.push(m[1]!);
      return { kind: 'one', param: m[1]! };
    }
    if (seg.includes('*')) throw new Error(`"${seg}": * and ** stand alone in a segment`);
    if (seg === '' && i < all.length - 1) throw new Error('empty segment (//) in route path');
    if (seg === '.' || seg === '..') throw new Error('dot segments are not allowed in route paths');
    if (/[%\\?#]/.test(seg)) throw new Error(`"${seg}": write the segment decoded, without % \\ ? #`);
    return { kind: 'literal', value: seg };
  });
  return { source, segments, params };
}

/**
 * Work done by `matchPattern`, in segment comparisons; tests read it to prove the bound (issue 11: matching cost is
 * linear in the path, whatever the route table).
 */
export const matchWork = { comparisons: 0 };

/**
 * A pattern compiled for matching: the fixed runs before the first `**` (head), after the last (tail) and between
 * two (blocks), as indexes into `segments`.
 */
interface Plan {
  many: boolean;
  head: number[];
  blocks: number[][];
  tail: number[];
  fixed: number;
}

const plans = new WeakMap<Pattern, Plan>();

function planOf(pattern: Pattern): Plan {
  let plan = plans.get(pattern);
  if (plan) return plan;
  const runs: number[][] = [[]];
  pattern.segments.forEach((seg, i) => (seg.kind === 'many' ? runs.push([]) : runs.at(-1)!.push(i)));
  const many = runs.length > 1;
  plan = {
    many,
    head: runs[0]!,
    blocks: many ? runs.slice(1, -1).filter((run) => run.length > 0) : [],
    tail: many ? runs.at(-1)! : [],
    fixed: runs.reduce((n, run) => n + run.length, 0),
  };
  plans.set(pattern, plan);
  return plan;
}

/** Compares the run `run` of pattern segments with the path from `at`, capturing as it goes. */
function matchRun(
  segs: readonly PatternSegment[],
  run: readonly number[],
  path: readonly string[],
  at: number,
  captured: (string | undefined)[],
): boolean {
  for (let k = 0; k < run.length; k++) {
    matchWork.comparisons++;
    const value = path[at + k]!;
    if (!matchesOne(segs[run[k]!]!, value)) return false;
    captured[run[k]!] = value;
  }
  return true;
}

/**
 * Matches decoded path segments against a pattern; returns the captured params or undefined.
 * Glob matching by anchored runs: the head must match at the start, the tail at the end, and each run between two
 * `**` at its leftmost place after the previous one. Leftmost is always right for glob semantics (a later place
 * leaves less room for the rest), so nothing is ever retried: at most n * (pattern length) comparisons for a path of
 * n segments, and O(1) for a path whose first segment differs from a literal head (most routes).
 */
export function matchPattern(pattern: Pattern, path: readonly string[]): Record<string, string> | undefined {
  const segs = pattern.segments;
  const plan = planOf(pattern);
  const n = path.length;
  const captured: (string | undefined)[] = new Array(segs.length);
  if (!plan.many ? n !== segs.length : n < plan.fixed) return undefined;
  if (!matchRun(segs, plan.head, path, 0, captured)) return undefined;
  if (plan.many) {
    const end = n - plan.tail.length;
    if (!matchRun(segs, plan.tail, path, end, captured)) return undefined;
    let from = plan.head.length;
    for (const block of plan.blocks) {
      let at = from;
      while (at + block.length <= end && !matchRun(segs, block, path, at, captured)) at++;
      if (at + block.length > end) return undefined;
      from = at + block.length;
    }
  }
  const params: Record<string, string> = Object.create(null) as Record<string, string>;
  segs.forEach((seg, i) => {
    if (seg.kind === 'one' && seg.param !== undefined) params[seg.param] = captured[i]!;
  });
  return params;
}

function matchesOne(seg: PatternSegment, value: string): boolean {
  if (seg.kind === 'literal') return seg.value === value;
  return seg.kind === 'one' && value !== '';
}
