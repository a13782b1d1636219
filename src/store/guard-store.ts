import type { Store } from './store.js';
import { storeUnavailable } from './store-unavailable.js';

/**
 * Wraps a store so that every failure of every method, whatever the backend throws or rejects with, is a rejected
 * promise of StoreUnavailableError: the callers' one signal for "answer 503, nothing was stored". Properties and
 * the prototype (instanceof) are those of the wrapped store.
 */
export function guardStore<S extends Store>(store: S): S {
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function' || prop === 'constructor') return value;
      return (...args: unknown[]) => {
        let result: unknown;
        try {
          result = (value as (...a: unknown[]) => unknown).apply(target, args);
        } catch (err) {
          return Promise.reject(storeUnavailable(err));
        }
        if (result instanceof Promise) return result.catch((err: unknown) => Promise.reject(storeUnavailable(err)));
        return result;
      };
    },
  });
}
