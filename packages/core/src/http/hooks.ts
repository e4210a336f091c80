// Calling the user's hooks safely: a hook that throws or rejects never breaks a request.
import type { Store, StoreStatusEvent } from '../store/types.js';
import { emitTokenBucketWarning } from '../warnings.js';

/** Runs a user hook; a throw or a rejection becomes a TokenBucketWarning. */
export function runHook(call: () => unknown): void {
  try {
    const result = call();
    if (typeof (result as Promise<unknown> | undefined)?.then === 'function') {
      (result as Promise<unknown>).then(undefined, hookFailed);
    }
  } catch (err) {
    hookFailed(err);
  }
}

function hookFailed(err: unknown): void {
  emitTokenBucketWarning('TB_HOOK_FAILED', `tokenbucket: a hook threw: ${err instanceof Error ? err.message : String(err)}`);
}

/** Each store's status hooks, so a hook given to many limiters hears each change once. */
const statusHooks = new WeakMap<Store, Set<(event: StoreStatusEvent) => unknown>>();

/** Subscribes `hook` to the store's status changes, once per store however many limiters share it. */
export function subscribeOnce(store: Store, hook: (event: StoreStatusEvent) => unknown): void {
  if (typeof store.subscribe !== 'function') return; // a store that cannot fail has no status
  let hooks = statusHooks.get(store);
  if (hooks === undefined) {
    hooks = new Set();
    statusHooks.set(store, hooks);
  }
  if (hooks.has(hook)) return;
  hooks.add(hook);
  store.subscribe((event) => runHook(() => hook(event)));
}
