import type { CompiledRoute } from '../config/compile-config.js';
import { matchPattern } from './route-pattern.js';

export interface RouteMatch {
  route: CompiledRoute;
  params: Readonly<Record<string, string>>;
}

/** First match wins; no match means 404 and the request is never forwarded. */
export function matchRoute(routes: readonly CompiledRoute[], segments: readonly string[]): RouteMatch | undefined {
  for (const route of routes) {
    const params = matchPattern(route.pattern, segments);
    if (params) return { route, params };
  }
  return undefined;
}
