/**
 * The allocator settings `bin/scopegate` gives node (read the why there: glibc reads them only at process start).
 * The cluster primary passes them on to the workers it forks, and the soak to its gateway child, so a gateway
 * started through `node dist/src/cli.js` still gets them in its workers.
 */
export const GLIBC_MALLOC_TUNABLES = 'glibc.malloc.hugetlb=1:glibc.malloc.mmap_threshold=1048576';

/** The environment to add for a child process: nothing when the operator chose allocator settings of their own. */
export function mallocTunablesEnv(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  if (env.GLIBC_TUNABLES !== undefined || env.MALLOC_MMAP_THRESHOLD_ !== undefined) return {};
  return { GLIBC_TUNABLES: GLIBC_MALLOC_TUNABLES };
}
