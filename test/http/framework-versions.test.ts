// Each framework project of jest.config.cjs loads the version it names: its adapter tests ran on it.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

declare const FRAMEWORK_VERSIONS: Record<string, string>;

/** The package.json of the package `module` resolves to here (some packages do not export it). */
function loadedVersion(module: string): string {
  let dir = dirname(require.resolve(module));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version: string };
      if (pkg.name === module) return pkg.version;
    } catch {
      // no package.json here: look further up
    }
    if (dirname(dir) === dir) throw new Error(`no package.json named ${module} above ${require.resolve(module)}`);
    dir = dirname(dir);
  }
}

test.each(Object.entries(FRAMEWORK_VERSIONS))('%s resolves to %s in this project', (module, version) => {
  expect(loadedVersion(module)).toBe(version);
});
