// docs/reference/errors.md and the codes in the source are one list: a code without a section, a
// section (or a mention) of a code that does not exist, a code nothing uses, or a warning emitted
// without a code fails here. And a code can be silenced alone, in a real Node process.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TokenBucketError } from '@tokenbucket/core';
import { addErrorContext, ERROR_CODES, WARNING_CODES } from '../../packages/core/src/errors';

const root = join(__dirname, '..', '..');
const page = readFileSync(join(root, 'docs/reference/errors.md'), 'utf8');
const codes = [...ERROR_CODES, ...WARNING_CODES];

/** Every .ts file under packages/<pkg>/src. */
function sources(): { file: string; text: string }[] {
  const out: { file: string; text: string }[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts')) out.push({ file: path.slice(root.length + 1), text: readFileSync(path, 'utf8') });
    }
  };
  for (const pkg of readdirSync(join(root, 'packages'))) if (existsSync(join(root, 'packages', pkg, 'src'))) walk(join(root, 'packages', pkg, 'src'));
  return out;
}

test('every code has its own section, headed by the code (its anchor), and one prefix per kind', () => {
  const headings = [...page.matchAll(/^### (\S+)$/gm)].map((m) => m[1]!).filter((h) => /^TB_/.test(h));
  expect([...headings].sort()).toEqual([...codes].sort());
  for (const code of ERROR_CODES) expect(code).toMatch(/^TB_ERR_[A-Z_]+$/);
  for (const code of WARNING_CODES) expect(code).toMatch(/^TB_WARN_[A-Z_]+$/);
});

test('every code the page names exists', () => {
  // (`TB_ERR_STORE_*` names a family, not a code.)
  const named = new Set(page.match(/\bTB_(ERR|WARN)_[A-Z_]*[A-Z]\b/g));
  for (const code of named) expect(codes).toContain(code);
});

test('every code in the source is in the list, and every code of the list is used', () => {
  const files = sources();
  const used = new Set<string>();
  for (const { file, text } of files) {
    if (file === 'packages/core/src/errors.ts') continue;
    for (const code of text.match(/\bTB_(ERR|WARN)_[A-Z_]+\b/g) ?? []) {
      expect([file, codes.includes(code as never)]).toEqual([file, true]);
      used.add(code);
    }
  }
  expect(codes.filter((code) => !used.has(code))).toEqual([]);
});

test('every warning carries a code: nothing calls process.emitWarning but the one emitter', () => {
  const callers = sources()
    .filter(({ text }) => /process\.emitWarning\(/.test(text))
    .map(({ file }) => file);
  expect(callers).toEqual(['packages/core/src/errors.ts']);
});

test("an error's message ends with where its code is explained", () => {
  const error = new TokenBucketError('TB_ERR_STORE_TIMEOUT', 'Redis did not answer.');
  expect(error.message).toBe('tokenbucket: Redis did not answer. (see docs/reference/errors.md#tb_err_store_timeout)');
  // The anchor is the section's: GitHub's anchor of `### TB_ERR_STORE_TIMEOUT`.
  expect(page).toContain('\n### TB_ERR_STORE_TIMEOUT\n');
});

test('context an adapter adds (which route, which handler) goes before the docs address, which stays last', () => {
  const error = new TokenBucketError('TB_ERR_INVALID_OPTION', 'option `capacity` must be an integer >= 1; got 0.', 'capacity');
  addErrorContext(error, '(config.rateLimit of route GET /a)');
  addErrorContext(error, '(in the admin plugin)');
  expect(error.message).toBe(
    'tokenbucket: option `capacity` must be an integer >= 1; got 0. (config.rateLimit of route GET /a) (in the admin plugin) (see docs/reference/errors.md#tb_err_invalid_option)',
  );
  expect([error.code, error.option]).toEqual(['TB_ERR_INVALID_OPTION', 'capacity']);
});

describe('--disable-warning silences one code, in a real process', () => {
  const child = join(__dirname, 'warning-codes.child.cjs');
  beforeAll(() => {
    if (!existsSync(join(root, 'packages/core/dist/cjs/adapter.js'))) throw new Error('packages/core is not built: run `pnpm build` first (`pnpm test` does).');
  });
  /** The codes of the warnings a run of the child printed, in order, once each. */
  const printed = (flags: string[]) => {
    const run = spawnSync(process.execPath, [...flags, child], { encoding: 'utf8' });
    expect(run.stdout).toBe('done\n');
    return [...new Set([...run.stderr.matchAll(/\[(TB_[A-Z_]+)\] TokenBucketWarning/g)].map((m) => m[1]))].sort();
  };

  test('without the flag, both warnings print', () => {
    expect(printed([])).toEqual(['TB_WARN_HOOK_FAILED', 'TB_WARN_LABEL_VALUES']);
  });

  test('--disable-warning=TB_WARN_HOOK_FAILED: that one is silent, the other still prints', () => {
    expect(printed(['--disable-warning=TB_WARN_HOOK_FAILED'])).toEqual(['TB_WARN_LABEL_VALUES']);
  });

  test('--disable-warning=TokenBucketWarning silences them all', () => {
    expect(printed(['--disable-warning=TokenBucketWarning'])).toEqual([]);
  });

  test('NODE_OPTIONS carries it too', () => {
    const out = execFileSync(process.execPath, [child], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NODE_OPTIONS: '--disable-warning=TB_WARN_LABEL_VALUES' },
    });
    expect(out).toBe('done\n');
  });
});
