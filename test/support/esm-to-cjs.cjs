// A jest transform for the ES modules of NestJS 12 (ESM-only), which the jest projects load as
// CommonJS like everything else: TypeScript's transpiler turns `import`/`export` and `import()`
// into require; `import.meta.url`, which CommonJS has no syntax for, becomes the file's URL.
const ts = require('typescript');

module.exports = {
  process(source, filename) {
    const code = source.replace(/\bimport\.meta\.url\b/g, "require('node:url').pathToFileURL(__filename).href");
    const { outputText } = ts.transpileModule(code, {
      fileName: filename,
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, allowJs: true, esModuleInterop: true },
    });
    return { code: outputText };
  },
};
