// Every `@default` in packages/*/src, with the property its doc comment is on: the options a
// default is promised for (test/core/defaults.test.ts pins each; docs/reference/options.md lists each).
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const ROOT = join(__dirname, '..', '..');

/** `{ file, option }` for every `@default` in packages/*\/src, sorted by file then option. */
export function documentedDefaults(): { file: string; option: string }[] {
  const found: { file: string; option: string }[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts')) {
        const lines = readFileSync(path, 'utf8').split('\n');
        lines.forEach((line, i) => {
          if (!line.includes('@default')) return;
          const property = lines.slice(i).find((l) => /^\s*\w+\??:/.test(l) && !l.trim().startsWith('*'));
          found.push({ file: relative(ROOT, path), option: /^\s*(\w+)/.exec(property ?? '')?.[1] ?? '?' });
        });
      }
    }
  };
  for (const pkg of readdirSync(join(ROOT, 'packages'))) walk(join(ROOT, 'packages', pkg, 'src'));
  return found.sort((a, b) => `${a.file} ${a.option}`.localeCompare(`${b.file} ${b.option}`));
}
