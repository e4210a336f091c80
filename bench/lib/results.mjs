// Writes one run's results: bench/results/<mode>.json (every run record, the summaries, the
// machine), and the markdown and SVG made from them.
import { mkdirSync, writeFileSync } from 'node:fs';
import { chartSvg } from './chart.mjs';
import { markdown } from './report.mjs';
import { analyze } from './summary.mjs';

export const RESULTS_DIR = new URL('../results/', import.meta.url);

/** Summarizes `runs` afresh, writes the three files next to each other, returns the markdown. */
export function writeResults({ meta, runs, redis }, dir = RESULTS_DIR) {
  const results = { meta, summary: analyze(runs), redis, runs };
  const md = markdown(results);
  mkdirSync(dir, { recursive: true });
  writeFileSync(new URL(`${meta.mode}.json`, dir), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(new URL(`${meta.mode}.md`, dir), md);
  writeFileSync(new URL(`${meta.mode}.svg`, dir), chartSvg(results));
  return { results, markdown: md };
}
