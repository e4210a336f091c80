// Jest's transform for the TypeScript sources and tests: each file compiled on its own (as
// test/tsconfig.json's isolatedModules promises; `pnpm typecheck` checks the types) and, when
// jest collects coverage from it, instrumented as jest itself would (babel-plugin-istanbul, mapped
// back to the TypeScript). What it gives is the same in every jest project, so it keeps its own
// cache across them (under node_modules/.cache): jest's transform cache is per project, and the
// 21 projects of the framework matrix each compiled and instrumented core's sources again, about
// a third of a cold run's time on 2 cores.
const { createHash } = require('node:crypto');
const { mkdirSync, readFileSync, renameSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const babel = require('@babel/core');
const istanbul = require('babel-plugin-istanbul');
const ts = require('typescript');

const root = join(__dirname, '..', '..');
const tsconfig = join(root, 'test', 'tsconfig.json');
const parsed = ts.getParsedCommandLineOfConfigFile(
  tsconfig,
  {},
  {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    },
  },
);
const compilerOptions = {
  ...parsed.options,
  module: ts.ModuleKind.CommonJS,
  noEmit: false,
  declaration: false,
  declarationMap: false,
  sourceMap: true,
  inlineSourceMap: false,
  inlineSources: true,
};
const cacheDir = join(root, 'node_modules', '.cache', 'tokenbucket-jest');
/** Changes whenever the output could: this file, TypeScript's and the instrumenter's versions, the options. */
const version = createHash('sha1')
  .update(readFileSync(__filename))
  .update(ts.version)
  .update(require('babel-plugin-istanbul/package.json').version)
  .update(JSON.stringify(compilerOptions))
  .digest('hex');

function keyOf(source, path, instrument) {
  return createHash('sha1')
    .update(version)
    .update('\0')
    .update(path)
    .update('\0')
    .update(instrument ? 'instrument' : '')
    .update('\0')
    .update(source)
    .digest('hex');
}

function compile(source, path, instrument, rootDir) {
  const out = ts.transpileModule(source, { compilerOptions, fileName: path, reportDiagnostics: false });
  const code = out.outputText.replace(/\n\/\/# sourceMappingURL=.*$/, '');
  const map = JSON.parse(out.sourceMapText);
  if (!instrument) return { code, map };
  // As jest's own instrumentation does (@jest/transform, _instrumentFile).
  const result = babel.transformSync(code, {
    auxiliaryCommentBefore: ' istanbul ignore next ',
    babelrc: false,
    configFile: false,
    filename: path,
    plugins: [[istanbul.default ?? istanbul, { compact: false, cwd: rootDir, exclude: [], extension: false, inputSourceMap: map, useInlineSourceMaps: false }]],
    sourceMaps: 'both',
  });
  return { code: result.code, map: result.map };
}

module.exports = {
  canInstrument: true,
  getCacheKey(source, path, options) {
    return keyOf(source, path, options.instrument);
  },
  process(source, path, options) {
    const key = keyOf(source, path, options.instrument);
    const file = join(cacheDir, key.slice(0, 2), `${key}.json`);
    try {
      return JSON.parse(readFileSync(file, 'utf8'));
    } catch {
      // Not made yet.
    }
    const result = compile(source, path, options.instrument, options.config.rootDir);
    mkdirSync(join(cacheDir, key.slice(0, 2)), { recursive: true });
    // Written whole, then renamed: another worker reading it meanwhile never sees half a file.
    const temp = `${file}.${process.pid}.tmp`;
    writeFileSync(temp, JSON.stringify(result));
    renameSync(temp, file);
    return result;
  },
};
