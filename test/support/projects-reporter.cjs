// Prints, at the end of a run, what ran in each jest project (one per framework version), so a
// CI log shows that the HTTP suite passed on Express 4 and 5, Koa 2 and 3 with each router...
class ProjectsReporter {
  constructor() {
    this.projects = new Map();
  }

  onTestResult(test, result) {
    const name = test.context.config.displayName?.name ?? 'default';
    const p = this.projects.get(name) ?? { files: 0, passed: 0, failed: 0, skipped: 0, ms: 0 };
    p.files += 1;
    p.passed += result.numPassingTests;
    p.failed += result.numFailingTests + (result.testExecError ? 1 : 0);
    p.skipped += result.numPendingTests + result.numTodoTests;
    p.ms += result.perfStats.end - result.perfStats.start;
    this.projects.set(name, p);
  }

  onRunComplete() {
    if (this.projects.size === 0) return;
    const width = Math.max(...[...this.projects.keys()].map((n) => n.length));
    const lines = [...this.projects]
      .sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }))
      .map(([name, p]) => {
        const verdict = p.failed === 0 ? 'ok  ' : 'FAIL';
        const skipped = p.skipped > 0 ? `, ${p.skipped} skipped` : '';
        return `  ${verdict} ${name.padEnd(width)}  ${p.files} file${p.files === 1 ? '' : 's'}, ${p.passed} passed, ${p.failed} failed${skipped} (${(p.ms / 1000).toFixed(1)} s)`;
      });
    process.stderr.write(`\nPer project (framework version):\n${lines.join('\n')}\n`);
  }
}

module.exports = ProjectsReporter;
