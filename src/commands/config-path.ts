/** `--config FILE`, else `$SCOPEGATE_CONFIG`, else `./gateway.yaml` (SPEC.md 1). */
export function resolveConfigPath(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return flag ?? env.SCOPEGATE_CONFIG ?? './gateway.yaml';
}
