#!/usr/bin/env node
// Fails when the modules under the given directories import each other in a cycle. Every relative
// import counts, `import type` included: a cycle of types is still two modules that cannot be read
// (or split) one without the other. Imports of packages (`@tokenbucket/core`, `ioredis`) are not
// followed. Usage: node scripts/check-cycles.mjs <dir> [<dir>...]  (exit 0: no cycle; 1: cycles;
// 2: bad arguments). Prints the import graph with --graph.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, join, relative, resolve } from 'node:path';

const SOURCE = /\.(ts|mts|cts|js|mjs|cjs)$/;
// The extensions a relative specifier may leave out or spell as .js, in the order TypeScript tries.
const TRY = ['.ts', '.tsx', '.mts', '.cts', '.d.ts', '.d.mts', '.d.cts', '.js', '.mjs', '.cjs'];
const SKIP_DIRS = new Set(['node_modules', 'dist', 'coverage', '.tmp']);

/** Every source file under `dir`, recursively. */
function sourceFiles(dir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!SKIP_DIRS.has(entry.name)) out.push(...sourceFiles(path));
    } else if (SOURCE.test(entry.name)) {
      out.push(path);
    }
  }
  return out;
}

/** The module specifiers a file imports, exports from, requires or imports dynamically. */
function specifiers(text) {
  // Comments out first, so an example in a comment is not an import.
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');
  const found = [];
  const patterns = [/\b(?:import|export)\s+(?:type\s+)?(?:[\w*${}\s,]+?\s+from\s+)?['"]([^'"]+)['"]/g, /\b(?:require|import)\s*\(\s*['"]([^'"]+)['"]\s*\)/g];
  for (const pattern of patterns) {
    for (const m of code.matchAll(pattern)) found.push(m[1]);
  }
  return found;
}

/** The file a relative specifier names, or undefined when none exists (e.g. a JSON file). */
function resolveRelative(from, spec) {
  const base = resolve(dirname(from), spec);
  const candidates = [base];
  const ext = extname(base);
  if (['.js', '.mjs', '.cjs'].includes(ext)) {
    const stem = base.slice(0, -ext.length);
    const ts = { '.js': ['.ts', '.tsx', '.d.ts'], '.mjs': ['.mts', '.d.mts'], '.cjs': ['.cts', '.d.cts'] }[ext];
    candidates.push(...ts.map((e) => stem + e));
  }
  candidates.push(...TRY.map((e) => base + e), ...TRY.map((e) => join(base, `index${e}`)));
  return candidates.find((c) => existsSync(c) && statSync(c).isFile() && SOURCE.test(c));
}

/** Strongly connected components of more than one module, or of one that imports itself (Tarjan). */
function cycles(graph) {
  let index = 0;
  const stack = [];
  const onStack = new Set();
  const indices = new Map();
  const low = new Map();
  const found = [];
  const visit = (v) => {
    indices.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!indices.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v), indices.get(w)));
      }
    }
    if (low.get(v) === indices.get(v)) {
      const component = [];
      let w;
      do {
        w = stack.pop();
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? new Set()).has(v)) found.push(component.reverse());
    }
  };
  for (const v of graph.keys()) if (!indices.has(v)) visit(v);
  return found;
}

/** One path around a component, for the message: a -> b -> ... -> a. */
function loopThrough(graph, component) {
  const members = new Set(component);
  const start = component[0];
  const path = [start];
  const seen = new Set([start]);
  const walk = (v) => {
    for (const w of graph.get(v) ?? []) {
      if (w === start && path.length > 0) return true;
      if (members.has(w) && !seen.has(w)) {
        seen.add(w);
        path.push(w);
        if (walk(w)) return true;
        path.pop();
      }
    }
    return false;
  };
  walk(start);
  return [...path, start];
}

const args = process.argv.slice(2);
const showGraph = args.includes('--graph');
const dirs = args.filter((a) => a !== '--graph');
if (dirs.length === 0) {
  console.error('usage: node scripts/check-cycles.mjs [--graph] <dir> [<dir>...]');
  process.exit(2);
}
for (const dir of dirs) {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    console.error(`check-cycles: ${dir} is not a directory`);
    process.exit(2);
  }
}

const root = process.cwd();
const name = (file) => relative(root, file);
const graph = new Map();
const files = dirs.flatMap((d) => sourceFiles(resolve(d)));
for (const file of files) {
  const edges = new Set();
  for (const spec of specifiers(readFileSync(file, 'utf8'))) {
    if (!spec.startsWith('.')) continue;
    const target = resolveRelative(file, spec);
    if (target !== undefined) edges.add(target);
  }
  graph.set(file, edges);
}

if (showGraph) {
  for (const [file, edges] of [...graph].sort(([a], [b]) => a.localeCompare(b))) {
    console.log(`${name(file)}${edges.size ? ` -> ${[...edges].map(name).sort().join(', ')}` : ''}`);
  }
}

const found = cycles(graph);
if (found.length === 0) {
  console.log(`check-cycles: no import cycle among ${files.length} modules under ${dirs.join(', ')}`);
} else {
  console.error(`check-cycles: ${found.length} import cycle(s) under ${dirs.join(', ')}:`);
  for (const component of found) console.error(`  ${loopThrough(graph, component).map(name).join(' -> ')}`);
  process.exit(1);
}
