// onStoreStatus, heard once per store however many limiters are given the same function.
import { callUserCode } from '../errors.js';
import type { StoreStatusChange } from '../diagnostics.js';
import type { Store } from '../store/types.js';

/** Each store's status hooks, so a hook given to many limiters hears each change once. */
const statusHooks = new WeakMap<Store, Set<(change: StoreStatusChange) => unknown>>();

/** Subscribes `hook` to the store's status changes, once per store however many limiters share it. */
export function subscribeOnce(store: Store, hook: (change: StoreStatusChange) => unknown): void {
  if (typeof store.subscribe !== 'function') return; // a store that cannot fail has no status
  let hooks = statusHooks.get(store);
  if (hooks === undefined) {
    hooks = new Set();
    statusHooks.set(store, hooks);
  }
  if (hooks.has(hook)) return;
  hooks.add(hook);
  store.subscribe((change) => callUserCode('TB_WARN_HOOK_FAILED', 'onStoreStatus', () => hook(change)));
}
