// The packages as users get them, made once and shared: every package packed with `pnpm pack`
// once per build (not once per test file), and each consumer project installed from those
// tarballs once per set of dependencies. Both are kept under the system's temporary directory,
// named by a hash of what went into them (the packed files of every package; the consumer's
// package.json), so a test file run in parallel with another, or run again on the same build,
// finds them made; a change to a package's dist or package.json gives new names, and so a new
// pack and new installs. Parallel jest workers take a lock (a directory made atomically): the
// first makes, the others wait for it. Consumers live outside the repository, so that Node and
// TypeScript, walking up from them, never find the workspace's own node_modules.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const root = join(__dirname, '..', '..');
/** Every package of the workspace. */
export const PACKAGES = readdirSync(join(root, 'packages')).filter((p) => existsSync(join(root, 'packages', p, 'package.json')));
const cache = join(tmpdir(), 'tokenbucket-packaging');

/** Blocks the worker for `ms` (the set-up is synchronous, as execFileSync is). */
const sleep = (ms: number): void => {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
};

/** The files `pnpm pack` takes from a package (its `files`, and package.json), for the hash. */
function packedFiles(pkg: string): string[] {
  const dir = join(root, 'packages', pkg);
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { files?: string[] };
  const out = [join(dir, 'package.json')];
  for (const entry of manifest.files ?? []) {
    const path = join(dir, entry);
    if (!existsSync(path)) continue;
    if (statSync(path).isDirectory()) {
      for (const f of readdirSync(path, { recursive: true, encoding: 'utf8' }).sort()) {
        if (statSync(join(path, f)).isFile()) out.push(join(path, f));
      }
    } else out.push(path);
  }
  return out;
}

/**
 * Makes `dir` once: the first caller runs `make` into a fresh directory and renames it to `dir`
 * (so `dir` is never seen half made); a concurrent caller waits for it. A lock left by a killed
 * worker is taken over after `staleMs`.
 */
function once(dir: string, make: (into: string) => void, staleMs: number): void {
  const lock = `${dir}.lock`;
  const deadline = Date.now() + 2 * staleMs;
  while (!existsSync(dir)) {
    try {
      mkdirSync(lock);
    } catch {
      let age = 0;
      try {
        age = Date.now() - statSync(lock).mtimeMs;
      } catch {
        continue;
      }
      if (age > staleMs) rmSync(lock, { recursive: true, force: true });
      else if (Date.now() > deadline) throw new Error(`gave up waiting for ${dir} (locked by ${lock})`);
      else sleep(200);
      continue;
    }
    try {
      if (existsSync(dir)) return;
      const into = mkdtempSync(`${dir}.partial-`);
      try {
        make(into);
        renameSync(into, dir);
      } catch (err) {
        rmSync(into, { recursive: true, force: true });
        // A worker that took over a lock it thought stale made it first: theirs is as good.
        if (!existsSync(dir)) throw err;
      }
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
  }
}

/** Removes what earlier builds left in the cache and no run has touched for a day. */
function prune(): void {
  for (const entry of readdirSync(cache)) {
    const path = join(cache, entry);
    try {
      if (Date.now() - statSync(path).mtimeMs > 86_400_000) rmSync(path, { recursive: true, force: true });
    } catch {
      // Another worker removed it first.
    }
  }
}

/**
 * Every package packed with `pnpm pack`, once per build: package name ('core') -> the absolute
 * path of its tarball.
 */
export function packTarballs(): Record<string, string> {
  for (const pkg of PACKAGES) {
    if (!existsSync(join(root, 'packages', pkg, 'dist/esm/index.js'))) {
      throw new Error(`packages/${pkg} is not built: run \`pnpm build\` first (\`pnpm test\` does).`);
    }
  }
  const hash = createHash('sha256');
  for (const pkg of PACKAGES) {
    for (const file of packedFiles(pkg)) {
      hash.update(`${relative(root, file)}\0`);
      hash.update(readFileSync(file));
    }
  }
  const dir = join(cache, `tarballs-${hash.digest('hex').slice(0, 16)}`);
  mkdirSync(cache, { recursive: true });
  once(
    dir,
    (into) => {
      prune();
      for (const pkg of PACKAGES) execFileSync('pnpm', ['pack', '--pack-destination', into], { cwd: join(root, 'packages', pkg), stdio: 'pipe' });
    },
    300_000,
  );
  const files = readdirSync(dir);
  return Object.fromEntries(
    PACKAGES.map((pkg) => {
      const file = files.find((f) => f.startsWith(`tokenbucket-${pkg}-`) && f.endsWith('.tgz'));
      if (file === undefined) throw new Error(`pnpm pack made no tarball for packages/${pkg} in ${dir}`);
      return [pkg, join(dir, file)];
    }),
  );
}

const pinned = (name: string): string => JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).devDependencies[name];

/**
 * The consumer of the metrics packages and of the Hono adapter (test/packaging/tarballs.test.ts,
 * hono-tarball.test.ts): one install of the packed core, prometheus, opentelemetry and hono, with
 * the libraries they run beside at the versions the workspace pins (so the install can come
 * from the local pnpm store) and Node's types (the declarations name node:diagnostics_channel).
 */
export function sharedConsumer(): { dir: string; work: string; tarballs: Record<string, string> } {
  const tarballs = packTarballs();
  const file = (pkg: string) => `file:${tarballs[pkg]}`;
  return {
    tarballs,
    ...consumer({
      name: 'tarball-consumer',
      private: true,
      dependencies: {
        '@tokenbucket/core': file('core'),
        '@tokenbucket/prometheus': file('prometheus'),
        '@tokenbucket/opentelemetry': file('opentelemetry'),
        '@tokenbucket/hono': file('hono'),
        ...Object.fromEntries(
          ['prom-client', '@opentelemetry/api', '@opentelemetry/sdk-metrics', 'hono', '@hono/node-server', '@types/node'].map((m) => [m, pinned(m)]),
        ),
      },
      // The packed packages name core by version: take it from its tarball, never from a registry.
      pnpm: { overrides: { '@tokenbucket/core': file('core') } },
    }),
  };
}

/**
 * A consumer project, installed once per `manifest` (a package.json whose dependencies name the
 * tarballs by absolute `file:` paths) with `pnpm install`, outside the workspace. Returns a new
 * empty directory inside it for the caller's files: its imports resolve through the consumer's
 * node_modules and its package.json. The caller removes that directory when done.
 */
export function consumer(manifest: Record<string, unknown>): { dir: string; work: string } {
  const json = JSON.stringify(manifest, null, 2);
  const dir = join(cache, `consumer-${createHash('sha256').update(json).digest('hex').slice(0, 16)}`);
  mkdirSync(cache, { recursive: true });
  once(
    dir,
    (into) => {
      writeFileSync(join(into, 'package.json'), json);
      execFileSync('pnpm', ['install', '--prefer-offline', '--ignore-workspace', '--reporter=silent'], { cwd: into, stdio: 'pipe' });
    },
    300_000,
  );
  return { dir, work: mkdtempSync(join(dir, 'run-')) };
}

/**
 * Expects a package tarball to hold what a user installs (the ESM and CommonJS builds with their
 * types, README, CHANGELOG and LICENSE) and nothing of the sources; returns its file list.
 */
export function expectPublishedFiles(tarball: string): string[] {
  const files = execFileSync('tar', ['tzf', tarball], { encoding: 'utf8' }).trim().split('\n');
  expect(files).toEqual(
    expect.arrayContaining([
      'package/dist/esm/index.js',
      'package/dist/esm/index.d.ts',
      'package/dist/cjs/index.js',
      'package/dist/cjs/index.d.ts',
      'package/README.md',
      'package/CHANGELOG.md',
      'package/LICENSE',
    ]),
  );
  expect(files.filter((f) => f.startsWith('package/src/'))).toEqual([]);
  return files;
}
