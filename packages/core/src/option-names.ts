// Unknown option names are creation errors: a misspelt option must not be silently ignored.
import { TokenBucketError } from './errors.js';

/**
 * The names of an options interface, written as a record so that the compiler checks the list is
 * complete and has nothing extra: `optionNames<LimiterOptions>({ store: 1, name: 1, ... })`.
 */
export function optionNames<T>(names: { readonly [K in keyof Required<T>]: 1 }): readonly string[] {
  return Object.freeze(Object.keys(names));
}

/**
 * Throws TB_ERR_INVALID_OPTION for the first own key of `options` that is not in `known`, naming it, and
 * the closest known name when one is close (`missingkey`: did you mean `missingKey`?), or
 * the new name of an option renamed before 1.0 (`onError` is now `onStoreError`).
 * `path` names nested options: `'breaker.'`, `'policies[1].'`, `'config.rateLimit.'`.
 */
export function checkOptionNames(options: object, known: readonly string[], path = ''): void {
  for (const name of Object.keys(options)) {
    if (known.includes(name)) continue;
    const renamed = RENAMED.get(name);
    if (renamed !== undefined && known.includes(renamed)) {
      throw new TokenBucketError('TB_ERR_INVALID_OPTION', `option \`${path}${name}\` is now \`${path}${renamed}\`.`, `${path}${name}`);
    }
    const near = closest(name, known);
    const hint = near === undefined ? `the options are ${known.map((k) => `\`${k}\``).join(', ')}.` : `did you mean \`${path}${near}\`?`;
    throw new TokenBucketError('TB_ERR_INVALID_OPTION', `unknown option \`${path}${name}\`: ${hint}`, `${path}${name}`);
  }
}

/** Options renamed before 1.0, by their old names (`onStoreError`, now a callback, is checked by its parser). */
const RENAMED: ReadonlyMap<string, string> = new Map([
  ['onMissingKey', 'missingKey'],
  ['onError', 'onStoreError'],
]);

/** The known name nearest to `name` (same letters in another case, a typo or two), if any. */
function closest(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const d = distance(name.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  const allowed = Math.max(2, Math.floor(Math.max(name.length, best?.length ?? 0) / 3));
  return bestDistance <= allowed ? best : undefined;
}

/** Edit distance with transpositions (optimal string alignment). */
function distance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    const row = [i];
    rows[i] = row;
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        row[j] = j;
        continue;
      }
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      const up = rows[i - 1]!;
      let d = Math.min(up[j]! + 1, row[j - 1]! + 1, up[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, rows[i - 2]![j - 2]! + 1);
      row[j] = d;
    }
  }
  return rows[a.length]![b.length]!;
}
