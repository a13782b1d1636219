/**
 * Summarizes a V8 CPU profile (`npm run bench -- --profile NAME` writes one per setup child):
 * self time by function and by file/package, and inclusive time of the functions named on the command line.
 *
 *   node --import tsx bench/profile.ts FILE.cpuprofile [--top 30] [--inclusive fnA,fnB]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    top: { type: 'string', default: '30' },
    inclusive: { type: 'string' },
    callers: { type: 'string' },
    tree: { type: 'string' },
  },
});

const profile = JSON.parse(readFileSync(positionals[0]!, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

const selfUs = new Map<number, number>();
profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
const total = [...selfUs.values()].reduce((a, b) => a + b, 0);

const where = (url: string) => {
  if (url === '') return '(native/v8)';
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1]!;
  if (url.startsWith('node:')) return url;
  return url.replace(/^.*\/(dist\/src|src|bench)\//, '$1/');
};
const label = (n: ProfileNode) =>
  `${n.callFrame.functionName || '(anonymous)'} ${where(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;

function table(title: string, sums: Map<string, number>, top: number): void {
  console.log(`\n${title}`);
  for (const [name, us] of [...sums].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${((100 * us) / total).toFixed(1).padStart(5)}%  ${name}`);
  }
}

const top = Number(values.top);
const byFunction = new Map<string, number>();
const byFile = new Map<string, number>();
for (const [id, us] of selfUs) {
  const n = byId.get(id)!;
  byFunction.set(label(n), (byFunction.get(label(n)) ?? 0) + us);
  const file = where(n.callFrame.url) || n.callFrame.functionName;
  const key = file === '(native/v8)' ? `(${n.callFrame.functionName})` : file;
  byFile.set(key, (byFile.get(key) ?? 0) + us);
}
console.log(`total sampled: ${(total / 1000).toFixed(0)} ms`);
table('self time by function', byFunction, top);
table('self time by file or package', byFile, top);

if (values.inclusive) {
  // inclusive: a sample counts once for a function if it appears anywhere on the sample's stack
  const names = values.inclusive.split(',');
  const sums = new Map<string, number>(names.map((n) => [n, 0]));
  for (const [id, us] of selfUs) {
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const fn = byId.get(at)!.callFrame.functionName;
      if (sums.has(fn) && !seen.has(fn)) {
        seen.add(fn);
        sums.set(fn, sums.get(fn)! + us);
      }
    }
  }
  table('inclusive time', sums, names.length);
}

if (values.callers) {
  // who calls a function: its self + descendants' time, by the stack 1-4 frames above it
  for (const name of values.callers.split(',')) {
    const sums = new Map<string, number>();
    for (const [id, us] of selfUs) {
      for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
        if (byId.get(at)!.callFrame.functionName !== name) continue;
        const chain: string[] = [];
        for (let up = parent.get(at); up !== undefined && chain.length < 4; up = parent.get(up))
          chain.push(label(byId.get(up)!));
        const key = chain.join(' < ');
        sums.set(key, (sums.get(key) ?? 0) + us);
        break;
      }
    }
    table(`callers of ${name}`, sums, 8);
  }
}

if (values.tree) {
  // top-down call tree, nodes with at least --tree percent of all samples
  const min = (Number(values.tree) / 100) * total;
  const inclusive = new Map<number, number>();
  const sum = (id: number): number => {
    let us = selfUs.get(id) ?? 0;
    for (const c of byId.get(id)!.children ?? []) us += sum(c);
    inclusive.set(id, us);
    return us;
  };
  const root = profile.nodes[0]!;
  sum(root.id);
  const print = (id: number, depth: number) => {
    const us = inclusive.get(id)!;
    if (us < min) return;
    console.log(`${((100 * us) / total).toFixed(1).padStart(5)}% ${'  '.repeat(depth)}${label(byId.get(id)!)}`);
    const kids = [...(byId.get(id)!.children ?? [])].sort((a, b) => inclusive.get(b)! - inclusive.get(a)!);
    for (const c of kids) print(c, depth + 1);
  };
  console.log('\ncall tree');
  print(root.id, 0);
}
