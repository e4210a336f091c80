// Work to do when a client is asked to close gracefully, before it does.

const hooks = new WeakMap<object, Set<() => void>>();

/**
 * The functions to run when `client` is asked to close gracefully, through any of `methods`
 * (`quit`; node-redis 5 and later also `close`), before the method runs: the stores on the client
 * send the takes they hold for the end of the turn first, so those are answered rather than
 * refused by a closing connection. Each method is wrapped once per client.
 */
export function quitHooks(client: object, methods: readonly string[]): Set<() => void> {
  let set = hooks.get(client);
  if (set === undefined) {
    const listeners = new Set<() => void>();
    set = listeners;
    hooks.set(client, listeners);
    const c = client as Record<string, unknown>;
    for (const method of methods) {
      const original = c[method];
      if (typeof original !== 'function') continue;
      c[method] = function closeAfterHeldTakes(this: unknown, ...args: unknown[]) {
        for (const listener of listeners) listener();
        return (original as (...a: unknown[]) => unknown).apply(this, args);
      };
    }
  }
  return set;
}
