// The app's emit: the same JavaScript and source maps as `tsc -p tsconfig.build.json`
// (test/cli/build.test.ts compares them byte for byte), written file by file with TypeScript's
// transpileModule in about a tenth of tsc's time: the image build of every code change waited
// 10-30 s for tsc to check types that `npm run typecheck` (part of `npm test`) checks anyway.
// verbatimModuleSyntax (which implies isolatedModules) makes tsc refuse any construct a
// file-by-file emit would get wrong.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';

/**
 * Writes what `tsc -p tsconfig.build.json` writes (to its outDir, or `outDir`), one file at a
 * time through TypeScript's transpileModule, without type-checking; throws on a syntax error.
 */
export function emitLikeTsc(appDir, outDir) {
  const ts = createRequire(import.meta.url)('typescript');
  const { config, error } = ts.readConfigFile(join(appDir, 'tsconfig.build.json'), ts.sys.readFile);
  if (error) throw new Error(ts.flattenDiagnosticMessageText(error.messageText, '\n'));
  const parsed = ts.parseJsonConfigFileContent(config, ts.sys, appDir);
  const options = { ...parsed.options, ...(outDir ? { outDir } : {}) };
  const { fileNames } = parsed;
  // Every file here is an ES module ("type": "module"), which is what NodeNext makes of it; a
  // single file carries no package scope, so it is told so.
  const compilerOptions = { ...options, module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler };
  const problems = [];
  for (const file of fileNames) {
    const output = ts.transpileModule(readFileSync(file, 'utf8'), { compilerOptions, fileName: file, reportDiagnostics: true });
    problems.push(...output.diagnostics);
    const target = join(options.outDir, relative(options.rootDir, file)).replace(/\.ts$/, '.js');
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, output.outputText);
    if (output.sourceMapText !== undefined) writeFileSync(`${target}.map`, output.sourceMapText);
  }
  if (problems.length > 0) {
    const host = { getCanonicalFileName: (name) => name, getCurrentDirectory: () => appDir, getNewLine: () => '\n' };
    throw new Error(`cannot compile the app:\n${ts.formatDiagnostics(problems, host)}`);
  }
}
