// Figures a test wants to show (how many takes a hammer admitted, how long a failover took) go to a
// file, not to the output of a passing run: .tmp/test-reports/<test file>.txt, one file per test
// file, started afresh each time that file runs. A failing assertion says what it needs itself.
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = join(__dirname, '..', '..');
/** The directory of the reports, from the repository root. */
export const REPORTS_DIR = join(root, '.tmp', 'test-reports');
let started: string | undefined;

/** The report file of the test file running now: test/reliability/oom.test.ts -> test-reliability-oom.test.ts.txt. */
export function reportFile(): string {
  const testPath = expect.getState().testPath ?? 'unknown';
  return join(REPORTS_DIR, `${relative(root, testPath).replace(/[\\/]/g, '-')}.txt`);
}

/** Appends `text` (one or more lines) to this test file's report. */
export function report(text: string): void {
  const file = reportFile();
  mkdirSync(REPORTS_DIR, { recursive: true });
  if (started !== file) {
    // Each test file has its own module registry in jest: the first report of a run starts the file.
    writeFileSync(file, '');
    started = file;
  }
  appendFileSync(file, text.endsWith('\n') ? text : `${text}\n`);
}
