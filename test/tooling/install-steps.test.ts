// `npm test` and `npm run demo` say what they are about to install, and why, before installing it;
// neither installs pnpm globally (only .ci/run, the CI machine's set-up, does). scripts/lib.sh's
// ensure_pnpm and ensure_redis_server run here with stand-ins for npm and apt-get on a PATH of
// their own; the scripts' output and each call of a stand-in go to one file, in order.
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');
let dir: string;
let bin: string;

/** An executable shell script on the test's PATH. */
function tool(name: string, body: string): void {
  writeFileSync(join(bin, name), `#!/bin/sh\n${body}\n`);
  chmodSync(join(bin, name), 0o755);
}

/**
 * Runs `script` in bash with scripts/lib.sh sourced, in the scratch repository, on the test's PATH
 * only; `out` is what it printed with the stand-ins' calls, in order.
 */
function run(script: string): { status: number | null; out: string } {
  const log = join(dir, 'out.log');
  writeFileSync(log, '');
  const r = spawnSync(join(bin, 'bash'), ['--norc', '--noprofile', '-c', `source scripts/lib.sh; { ${script}; } >>"$LOG" 2>&1`], {
    cwd: dir,
    env: { PATH: bin, LOG: log },
    encoding: 'utf8',
  });
  return { status: r.status, out: readFileSync(log, 'utf8') + r.stdout + r.stderr };
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tokenbucket-install-'));
  bin = join(dir, 'bin');
  mkdirSync(join(dir, 'scripts'));
  mkdirSync(bin);
  cpSync(join(root, 'scripts', 'lib.sh'), join(dir, 'scripts', 'lib.sh'));
  cpSync(join(root, 'package.json'), join(dir, 'package.json'));
  for (const name of ['bash', 'node', 'id', 'mkdir', 'chmod']) {
    const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).stdout.trim();
    symlinkSync(found, join(bin, name));
  }
  // npm: records the call; an install with --prefix P puts a pnpm of the asked version in P.
  tool(
    'npm',
    `echo "npm $*" >>"$LOG"
prefix=''; version=''
while [ $# -gt 0 ]; do case "$1" in --prefix) prefix=$2; shift;; pnpm@*) version=\${1#pnpm@};; esac; shift; done
[ -n "$prefix" ] || { echo 'npm: global install refused here'; exit 1; }
mkdir -p "$prefix/node_modules/.bin" && printf '#!/bin/sh\\necho %s\\n' "$version" > "$prefix/node_modules/.bin/pnpm" && chmod +x "$prefix/node_modules/.bin/pnpm"`,
  );
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const pinned = (require(join(root, 'package.json')) as { packageManager: string }).packageManager.split('@')[1]!;

test('pnpm of another version on PATH: it says what and why, then installs the pinned one into .tmp/pnpm, not globally', () => {
  tool('pnpm', 'echo 9.0.0');
  const r = run('ensure_pnpm && echo "now $(pnpm --version)"');
  expect(r.status).toBe(0);
  const lines = r.out.trim().split('\n');
  expect(lines[0]).toBe(
    `==> installing pnpm ${pinned} into .tmp/pnpm, inside the repository (npm install --prefix .tmp/pnpm pnpm@${pinned}): the scripts run pnpm ${pinned}, the version package.json pins (packageManager), and PATH has pnpm 9.0.0`,
  );
  expect(lines[1]).toMatch(new RegExp(`^npm install --prefix .tmp/pnpm .*pnpm@${pinned.replace(/\./g, '\\.')}$`));
  expect(lines.at(-1)).toBe(`now ${pinned}`);
  expect(r.out).not.toMatch(/--global/);
  // The next run uses it without installing again.
  expect(run('ensure_pnpm && pnpm --version').out.trim().split('\n')).toEqual([
    `==> using pnpm ${pinned} from .tmp/pnpm (the version package.json pins)`,
    pinned,
  ]);
});

test('the pinned pnpm on PATH: nothing is installed', () => {
  tool('pnpm', `echo ${pinned}`);
  expect(run('ensure_pnpm').out.trim()).toBe(`==> pnpm ${pinned} (the version package.json pins) is already installed`);
});

test('.ci/run (--global): says so, then installs globally', () => {
  const r = run('ensure_pnpm --global');
  expect(r.out.split('\n')[0]).toMatch(new RegExp(`^==> installing pnpm ${pinned.replace(/\./g, '\\.')} globally with npm .*PATH has no pnpm$`));
  expect(r.out.split('\n')[1]).toMatch(/^npm install --global /);
  // Where a global install is refused (this npm refuses it), the project-local one instead.
  expect(r.out.split('\n')[2]).toBe('==> the global install failed (no permission?): installing it into .tmp/pnpm instead');
  expect(r.status).toBe(0);
});

test('redis-server and redis-sentinel missing: it names both and why, then runs apt-get', () => {
  tool('apt-get', 'echo "apt-get $*" >>"$LOG"');
  const r = run('ensure_redis_server');
  expect(r.status).toBe(0);
  const lines = r.out.trim().split('\n');
  const sudo = process.getuid?.() === 0 ? '' : 'sudo ';
  expect(lines.slice(0, 3)).toEqual([
    `==> installing redis-server redis-sentinel from Debian with ${sudo}apt-get (apt-get update, then apt-get install -y redis-server redis-sentinel):`,
    expect.stringMatching(/^ {4}redis-server and redis-cli are not on PATH: the tests run against a real Redis/),
    '    redis-sentinel is not on PATH: the Sentinel failover test starts three sentinels',
  ]);
  if (sudo === '') expect(lines.slice(3)).toEqual(['apt-get update -qq', 'apt-get install -y -qq redis-server redis-sentinel']);
});

test('redis-server present: nothing is installed; without apt-get, it says what to install and stops', () => {
  for (const name of ['redis-server', 'redis-cli', 'redis-sentinel']) tool(name, 'true');
  expect(run('ensure_redis_server && echo done').out.trim()).toBe('done');
  rmSync(join(bin, 'redis-sentinel'));
  const r = run('ensure_redis_server');
  expect(r.status).toBe(1);
  expect(r.out).toMatch(/^==> missing: redis-sentinel \(redis-sentinel is not on PATH: .*\)\. Install Redis 7 so that/);
});
