#!/usr/bin/env node
// `pnpm mutate`: runs Stryker (stryker.config.mjs) and writes the score per file, the time it took
// and the surviving mutants. A full run writes mutation/results/full.md and full.json (commit
// them, as the bench's results); a run narrowed with Stryker arguments, e.g.
// `pnpm mutate -- --mutate packages/core/src/policy.ts`, writes .tmp/mutation/partial.md and
// .json instead. `node scripts/mutate.mjs --summarize <stryker json report> <name> [seconds]`
// writes mutation/results/<name>.md and .json from a report already made.
// Stryker fails the run (exit code 1) when the score is below thresholds.break.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const REPORT = join(root, '.tmp/mutation/mutation.json');

/** Stryker's statuses that count in the score: detected over detected and undetected. */
const DETECTED = new Set(['Killed', 'Timeout']);
const UNDETECTED = new Set(['Survived', 'NoCoverage']);

/** Per file and in total: mutants by status, the score, and the surviving mutants with their code. */
export function summarize(report) {
  const files = [];
  const survivors = [];
  const total = { detected: 0, undetected: 0, invalid: 0, ignored: 0 };
  /** The same counts without static mutants, the ones ignoreStatic leaves out. */
  const dynamic = { detected: 0, undetected: 0 };
  for (const [path, file] of Object.entries(report.files).sort(([a], [b]) => a.localeCompare(b))) {
    const lines = file.source.split('\n');
    const counts = { killed: 0, timeout: 0, survived: 0, noCoverage: 0, invalid: 0, ignored: 0 };
    for (const m of file.mutants) {
      if (!m.static && DETECTED.has(m.status)) dynamic.detected++;
      if (!m.static && UNDETECTED.has(m.status)) dynamic.undetected++;
      if (m.status === 'Killed') counts.killed++;
      else if (m.status === 'Timeout') counts.timeout++;
      else if (m.status === 'Survived') counts.survived++;
      else if (m.status === 'NoCoverage') counts.noCoverage++;
      else if (m.status === 'Ignored') counts.ignored++;
      else counts.invalid++; // CompileError, RuntimeError: not a mutant a test could see
      if (UNDETECTED.has(m.status)) {
        const { start, end } = m.location;
        const original =
          start.line === end.line ? lines[start.line - 1].slice(start.column - 1, end.column - 1) : `${lines[start.line - 1].slice(start.column - 1)} ...`;
        survivors.push({ file: path, line: start.line, mutator: m.mutatorName, status: m.status, original: original.trim(), replacement: m.replacement });
      }
    }
    const detected = counts.killed + counts.timeout;
    const undetected = counts.survived + counts.noCoverage;
    total.detected += detected;
    total.undetected += undetected;
    total.invalid += counts.invalid;
    total.ignored += counts.ignored;
    files.push({ file: path, ...counts, score: score(detected, undetected) });
  }
  return { score: score(total.detected, total.undetected), dynamicScore: score(dynamic.detected, dynamic.undetected), ...total, files, survivors };
}

const score = (detected, undetected) => (detected + undetected === 0 ? 100 : Math.round((10000 * detected) / (detected + undetected)) / 100);

/** The summary as Markdown: the table per file, then every survivor. */
export function markdown(summary, meta) {
  const out = [
    `# Mutation testing: ${meta.name}`,
    '',
    `${meta.when}, commit ${meta.commit}, \`${meta.command}\`: ${meta.seconds === undefined ? 'time not measured' : `${meta.seconds} s`}` +
      ` (${meta.concurrency} test runner${meta.concurrency === 1 ? '' : 's'}, on ${meta.cpus} cores).`,
    '',
    `**Score ${summary.score}%** (killed or timed out, over every mutant that compiled): ${summary.detected} detected, ${summary.undetected} not;` +
      ` ${summary.invalid} mutants that do not compile or crash at load were left out` +
      (summary.ignored === 0 ? '.' : `, and ${summary.ignored} static mutants were not tested (ignoreStatic).`) +
      ` Without static mutants: ${summary.dynamicScore}%.`,
    '',
    '| file | score | killed | timed out | survived | no coverage | invalid |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...summary.files.map((f) => `| ${f.file} | ${f.score}% | ${f.killed} | ${f.timeout} | ${f.survived} | ${f.noCoverage} | ${f.invalid} |`),
    '',
    `## Survivors (${summary.survivors.length})`,
    '',
  ];
  if (summary.survivors.length === 0) out.push('None.');
  for (const s of summary.survivors) {
    const code = (text) => `\`${text.replace(/`/g, "'").replace(/\s+/g, ' ').slice(0, 120)}\``;
    out.push(`- ${s.file}:${s.line} ${s.mutator}${s.status === 'NoCoverage' ? ' (no coverage)' : ''}: ${code(s.original)} -> ${code(s.replacement)}`);
  }
  return `${out.join('\n')}\n`;
}

function write(summary, meta, dir) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${meta.name}.json`), `${JSON.stringify({ ...meta, ...summary }, null, 2)}\n`);
  writeFileSync(join(dir, `${meta.name}.md`), markdown(summary, meta));
  console.log(`==> mutation score ${summary.score}% (${summary.survivors.length} survivors): ${join(dir, `${meta.name}.md`)}`);
}

function commit() {
  return spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).stdout.trim() || 'unknown';
}

async function main() {
  const args = process.argv.slice(2);
  if (args[0] === '--') args.shift();
  const config = (await import(join(root, 'stryker.config.mjs'))).default;
  const cpus = (await import('node:os')).availableParallelism();
  if (args[0] === '--summarize') {
    const [, report, name, seconds] = args;
    const meta = {
      name,
      when: new Date().toISOString().slice(0, 10),
      commit: commit(),
      command: 'pnpm mutate',
      seconds: seconds === undefined ? undefined : Number(seconds),
      concurrency: config.concurrency,
      cpus,
    };
    write(summarize(JSON.parse(readFileSync(report, 'utf8'))), meta, join(root, 'mutation/results'));
    return;
  }
  const startedAt = Date.now();
  const started = performance.now();
  const run = spawnSync('pnpm', ['exec', 'stryker', 'run', ...args], { cwd: root, stdio: 'inherit' });
  const seconds = Math.round((performance.now() - started) / 1000);
  const full = args.length === 0;
  const meta = {
    name: full ? 'full' : 'partial',
    when: new Date().toISOString().slice(0, 10),
    commit: commit(),
    command: `pnpm mutate${full ? '' : ` -- ${args.join(' ')}`}`,
    seconds,
    concurrency: config.concurrency,
    cpus,
  };
  try {
    // A run stopped before its end leaves the previous run's report: never summarize that one.
    if (statSync(REPORT).mtimeMs < startedAt) throw new Error(`${REPORT} is from an earlier run`);
    write(summarize(JSON.parse(readFileSync(REPORT, 'utf8'))), meta, full ? join(root, 'mutation/results') : join(root, '.tmp/mutation'));
  } catch (err) {
    console.error(`==> no report to summarize (${err.message})`);
  }
  process.exit(run.status ?? 1);
}

await main();
