import { parseConfig, type LoadOptions } from './load-config.js';
import type { GatewayConfig } from './schema.js';

/** Validates a config given as an object (library mode); problems name `source` and the key path. */
export function parseConfigObject(
  input: unknown,
  source = '<config object>',
  options: LoadOptions = {},
): GatewayConfig {
  // JSON is YAML: one validation path, the same messages, key paths and defaults as a file.
  return parseConfig(JSON.stringify(input ?? {}), source, { allowLiteralSecrets: true, ...options });
}
