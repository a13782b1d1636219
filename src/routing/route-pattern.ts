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
 * Matches decoded path segments against a pattern; returns the captured params or undefined.
 * Greedy wildcard matching with one backtrack point (the classic glob algorithm), so `**` costs O(n*m), never
 * exponential, whatever the number of `**` in a pattern.
 */
export function matchPattern(pattern: Pattern, path: readonly string[]): Record<string, string> | undefined {
  const segs = pattern.segments;
  const captured: (string | undefined)[] = new Array(segs.length);
  let p = 0;
  let s = 0;
  let starP = -1;
  let starS = 0;
  while (s < path.length) {
    const seg = segs[p];
    if (seg && seg.kind === 'many') {
      starP = p++;
      starS = s;
      continue;
    }
    if (seg && matchesOne(seg, path[s]!)) {
      captured[p] = path[s];
      p++;
      s++;
      continue;
    }
    if (starP < 0) return undefined;
    p = starP + 1;
    s = ++starS;
  }
  while (p < segs.length && segs[p]!.kind === 'many') p++;
  if (p !== segs.length) return undefined;
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
