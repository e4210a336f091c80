// Regenerates bench/results/<output>.{json,md,svg} from the run records of a results file (by
// default results/full.json): `node bench/write-report.mjs [results/<mode>.json]`. The summaries
// and tables are computed afresh, so a change to them needs no new run.
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { RESULTS_DIR, writeResults } from './lib/results.mjs';

export function writeReport(file = new URL('full.json', RESULTS_DIR)) {
  const { meta, runs, redis, primes } = JSON.parse(readFileSync(file, 'utf8'));
  if (!Array.isArray(runs)) throw new Error(`${file}: no run records (written by an older bench?)`);
  const dir = new URL('./', file instanceof URL ? file : pathToFileURL(file));
  writeResults({ meta, runs, redis: redis ?? [], primes }, dir);
  return new URL(`${meta.output ?? meta.mode}.md`, dir);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const file = process.argv[2] ? pathToFileURL(process.argv[2]) : undefined;
  console.error(`wrote ${writeReport(file).pathname}`);
}
