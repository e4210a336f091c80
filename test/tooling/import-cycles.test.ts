// No import cycles: scripts/check-cycles.mjs over the tests and every package's sources, and proof
// that it does find a cycle, of values or of types, when there is one.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');
const script = join(root, 'scripts', 'check-cycles.mjs');

function check(...dirs: string[]) {
  const r = spawnSync(process.execPath, [script, ...dirs], { cwd: root, encoding: 'utf8' });
  return { status: r.status, out: r.stdout + r.stderr };
}

// The tests, and every package of scripts/packages.cjs (the directories under packages/).
const { packages } = require(join(root, 'scripts', 'packages.cjs')) as { packages(): { dir: string }[] };
const DIRS = ['test', ...packages().map((p) => `packages/${p.dir}/src`)];

test.each(DIRS)('no import cycle under %s', (dir) => {
  const r = check(dir);
  expect(r.out).toMatch(/no import cycle among \d+ modules/);
  expect(r.status).toBe(0);
});

describe('a planted cycle', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tokenbucket-cycles-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('of values, through three modules: found, and the loop named', () => {
    writeFileSync(join(dir, 'a.ts'), "import { b } from './b';\nexport const a = b;\n");
    writeFileSync(join(dir, 'b.ts'), "export { c as b } from './c.js';\n");
    writeFileSync(join(dir, 'c.ts'), "import { a } from './a';\nexport const c = () => a;\n");
    writeFileSync(join(dir, 'd.ts'), "import { a } from './a';\nexport const d = a;\n"); // outside the loop
    const r = check(dir);
    expect(r.status).toBe(1);
    expect(r.out).toMatch(/1 import cycle/);
    expect(r.out).toMatch(/a\.ts -> .*b\.ts -> .*c\.ts -> .*a\.ts/);
    expect(r.out).not.toMatch(/d\.ts/);
  });

  test('of types only: found too', () => {
    writeFileSync(join(dir, 'types.ts'), "import type { Impl } from './impl';\nexport interface Spec { impl: Impl }\n");
    writeFileSync(join(dir, 'impl.ts'), "import type { Spec } from './types';\nexport interface Impl { spec: Spec }\n");
    const r = check(dir);
    expect(r.status).toBe(1);
    expect(r.out).toMatch(/(types|impl)\.ts -> .*(impl|types)\.ts -> /);
  });

  test('an import named in a comment is not an import', () => {
    writeFileSync(join(dir, 'a.ts'), "// import { b } from './b';\nexport const a = 1;\n");
    writeFileSync(join(dir, 'b.ts'), "import { a } from './a';\nexport const b = a;\n");
    expect(check(dir)).toEqual({ status: 0, out: expect.stringMatching(/no import cycle among 2 modules/) });
  });
});
