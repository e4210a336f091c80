// Writes one run's results: bench/results/<output>.json (full, quick, or partial for a full-mode
// run of some sections) (every run record, the summaries, the
// machine), and the markdown and SVG made from them.
import { mkdirSync, writeFileSync } from 'node:fs';
import { chartSvg } from './chart.mjs';
import { markdown } from './report.mjs';
import { analyze } from './summary.mjs';

export const RESULTS_DIR = new URL('../results/', import.meta.url);

/** Summarizes `runs` afresh, writes the three files next to each other, returns the markdown. */
export function writeResults({ meta, runs, redis, primes = [] }, dir = RESULTS_DIR) {
  const results = { meta, summary: analyze(runs), redis, primes, runs };
  const md = markdown(results);
  mkdirSync(dir, { recursive: true });
  const name = meta.output ?? meta.mode;
  writeFileSync(new URL(`${name}.json`, dir), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(new URL(`${name}.md`, dir), md);
  writeFileSync(new URL(`${name}.svg`, dir), chartSvg(results));
  return { results, markdown: md };
}
