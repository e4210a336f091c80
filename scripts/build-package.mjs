// Builds the package in the current directory to dist/esm (ES modules) and dist/cjs (CommonJS),
// each with its own type declarations and a package.json that marks the module format.
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
const tsc = require.resolve('typescript/bin/tsc');

rmSync('dist', { recursive: true, force: true });
const builds = [
  { dir: 'dist/esm', type: 'module', args: ['--module', 'ESNext', '--moduleResolution', 'Bundler'] },
  { dir: 'dist/cjs', type: 'commonjs', args: ['--module', 'CommonJS', '--moduleResolution', 'Node10'] },
];
for (const build of builds) {
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.json', '--outDir', build.dir, ...build.args], {
    stdio: 'inherit',
  });
  mkdirSync(build.dir, { recursive: true });
  writeFileSync(join(build.dir, 'package.json'), `${JSON.stringify({ type: build.type })}\n`);
}
