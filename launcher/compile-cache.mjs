// @ts-check
// Runs the toolkit's TypeScript without a loader hook: an entry point and everything it imports
// from the project are bundled by esbuild (the compiler tsx uses) into plain ESM, once per change
// of those sources, and imported from the cache. Packages stay imports, resolved from the
// project's node_modules as before.
//
// Why: under `node --import tsx`, every module Node loads, the Pulumi SDK's hundreds of files
// included, goes through tsx's hooks, on a second thread. That costs 0.7-0.9 s of CPU in each
// process `pulumi up` and `tkctl rollback` start (the program, the release process, tkctl), and
// on a busy host a release waits for CPU, not for the network.
//
// The cache is safe to share and to race: a build goes to a folder named by the hash of every
// source it read (the bytes it compiled, hashed as read), published by one rename; a folder is
// never changed once published. An entry is reused only while each of its sources still hashes
// the same, so an edited file is always compiled before it runs.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, extname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The project folder: Pulumi.yaml, package.json, node_modules. */
export const TOOLKIT_ROOT = fileURLToPath(new URL('..', import.meta.url));

const PACKAGES_DIR = join(TOOLKIT_ROOT, 'node_modules', '/');
/** Bumped whenever the build options below change what a cached build contains. */
const CACHE_FORMAT = 1;
/**
 * A build that is no longer its entry's current one is removed once nothing has started from it
 * for this long: a process that started from it may still load its lazy chunks.
 */
const STALE_BUILD_MS = 24 * 60 * 60 * 1000;
const IMPORT_META = /\bimport\.meta\.(url|dirname|filename)\b/g;
/** @type {Record<string, import('esbuild').Loader>} */
const LOADERS = { '.ts': 'ts', '.mts': 'ts', '.cts': 'ts', '.tsx': 'tsx', '.js': 'js', '.mjs': 'js', '.cjs': 'js', '.json': 'json' };

/**
 * Imports `entry` (a .ts file, relative to the project folder or absolute), compiled from its
 * current sources.
 * @param {string} entry
 * @param {{ cacheDir?: string }} [options]
 */
export async function importTypeScript(entry, options = {}) {
  const { file } = await compileTypeScript(entry, options);
  return import(pathToFileURL(file).href);
}

/**
 * The compiled entry point, from the cache when every source it was built from is unchanged.
 * @param {string} entry
 * @param {{ cacheDir?: string }} [options]
 * @returns {Promise<{ file: string, built: boolean }>}
 */
export async function compileTypeScript(entry, options = {}) {
  const entryPath = resolve(TOOLKIT_ROOT, entry);
  const cacheDir = options.cacheDir ?? defaultCacheDir();
  const entryDir = join(cacheDir, digest(entryPath).slice(0, 16));
  const cached = readIndex(entryDir);
  if (cached && sourcesUnchanged(cached.sources)) {
    markStarted(join(entryDir, cached.build));
    return { file: join(entryDir, cached.build, cached.output), built: false };
  }
  return { file: await build(entryPath, entryDir), built: true };
}

/** node_modules/.cache, as other build tools use it; the system's temporary folder where that cannot be written. */
function defaultCacheDir() {
  const preferred = join(TOOLKIT_ROOT, 'node_modules', '.cache', 'trapperkeeper-deploy', 'compiled');
  try {
    mkdirSync(preferred, { recursive: true });
    return preferred;
  } catch {
    return join(tmpdir(), `trapperkeeper-deploy-compiled-${digest(TOOLKIT_ROOT).slice(0, 12)}`);
  }
}

/** @param {string | Buffer} data */
function digest(data) {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * @typedef {{ format: number, compiler: string, entry: string, build: string, output: string, sources: Record<string, string> }} EntryIndex
 * @param {string} entryDir
 * @returns {EntryIndex | undefined}
 */
function readIndex(entryDir) {
  try {
    const index = JSON.parse(readFileSync(join(entryDir, 'index.json'), 'utf8'));
    return index.format === CACHE_FORMAT && index.compiler === compilerVersion() ? index : undefined;
  } catch {
    return undefined;
  }
}

/** @param {Record<string, string>} sources absolute path -> sha256 of the bytes compiled */
function sourcesUnchanged(sources) {
  for (const [path, hash] of Object.entries(sources)) {
    try {
      if (digest(readFileSync(path)) !== hash) return false;
    } catch {
      return false;
    }
  }
  return true;
}

/** @type {string | undefined} */
let esbuildVersion;
function compilerVersion() {
  esbuildVersion ??= JSON.parse(readFileSync(join(dirname(fileURLToPath(import.meta.resolve('esbuild'))), '..', 'package.json'), 'utf8')).version;
  return `esbuild ${esbuildVersion}`;
}

/**
 * Bundles the entry with its project imports into a new build folder and points the entry's
 * index at it. Each module's import.meta.url/dirname/filename become its source file's, so a
 * module that reads a file beside it (a .proto, a script, a dashboard) finds it as under tsx.
 * @param {string} entryPath
 * @param {string} entryDir
 */
async function build(entryPath, entryDir) {
  const esbuild = await import('esbuild');
  /** @type {Record<string, string>} */
  const sources = {};
  /** @type {import('esbuild').Plugin} */
  const sourceUrls = {
    name: 'source-urls',
    setup(builder) {
      builder.onLoad({ filter: /.*/ }, (args) => {
        const loader = LOADERS[extname(args.path)];
        if (!loader || args.path.startsWith(PACKAGES_DIR)) return undefined;
        const bytes = readFileSync(args.path);
        sources[args.path] = digest(bytes);
        if (loader === 'json') return { contents: bytes, loader };
        const url = pathToFileURL(args.path).href;
        const contents = bytes.toString('utf8').replace(IMPORT_META, (_, property) =>
          JSON.stringify(property === 'url' ? url : property === 'dirname' ? dirname(args.path) : args.path),
        );
        return { contents, loader };
      });
    },
  };

  mkdirSync(entryDir, { recursive: true });
  const staging = join(entryDir, `.building-${process.pid}-${Date.now()}`);
  let result;
  try {
    result = await esbuild.build({
      entryPoints: [entryPath],
      absWorkingDir: TOOLKIT_ROOT,
      outdir: staging,
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      target: `node${process.versions.node.split('.')[0]}`,
      packages: 'external',
      keepNames: true,
      metafile: true,
      logLevel: 'silent',
      plugins: [sourceUrls],
    });
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    const messages = /** @type {{ errors?: import('esbuild').Message[] }} */ (error).errors ?? [];
    const text = messages.length ? (await esbuild.formatMessages(messages, { kind: 'error' })).join('') : String(error);
    throw new Error(`Cannot compile ${relative(TOOLKIT_ROOT, entryPath)}:\n${text.trimEnd()}\nFix the error above and run the command again.`, { cause: error });
  }

  for (const input of Object.keys(result.metafile.inputs)) {
    const path = resolve(TOOLKIT_ROOT, input);
    if (!path.startsWith(PACKAGES_DIR) && !(path in sources)) {
      rmSync(staging, { recursive: true, force: true });
      throw new Error(`${relative(TOOLKIT_ROOT, entryPath)} imports ${input}, a kind of file the compile cache does not track (launcher/compile-cache.mjs LOADERS)`);
    }
  }
  const output = Object.entries(result.metafile.outputs).find(([, meta]) => meta.entryPoint !== undefined && resolve(TOOLKIT_ROOT, meta.entryPoint) === entryPath)?.[0];
  if (!output) throw new Error(`esbuild wrote no entry point for ${entryPath}`);
  const outputName = relative(staging, resolve(TOOLKIT_ROOT, output));
  const buildName = digest(JSON.stringify([CACHE_FORMAT, compilerVersion(), Object.entries(sources).sort()])).slice(0, 16);
  const published = join(entryDir, buildName);
  try {
    renameSync(staging, published);
  } catch {
    // The same sources, built by another process first: its folder is identical and stays.
    rmSync(staging, { recursive: true, force: true });
  }
  /** @type {EntryIndex} */
  const index = { format: CACHE_FORMAT, compiler: compilerVersion(), entry: entryPath, build: buildName, output: outputName, sources };
  const indexTemp = join(entryDir, `.index-${process.pid}-${Date.now()}.json`);
  writeFileSync(indexTemp, `${JSON.stringify(index)}\n`);
  renameSync(indexTemp, join(entryDir, 'index.json'));
  removeStaleBuilds(entryDir, buildName);
  removeGoneEntries(dirname(entryDir));
  return join(published, outputName);
}

/**
 * The cached builds of entry points that no longer exist (a temporary worktree of `tkctl up
 * --ref`, a moved checkout), once a day has passed since their last build.
 * @param {string} cacheDir
 */
function removeGoneEntries(cacheDir) {
  for (const name of readdirSync(cacheDir)) {
    const path = join(cacheDir, name);
    try {
      const indexFile = join(path, 'index.json');
      const { entry } = JSON.parse(readFileSync(indexFile, 'utf8'));
      if (typeof entry !== 'string' || existsSync(entry) || Date.now() - statSync(indexFile).mtimeMs <= STALE_BUILD_MS) continue;
      rmSync(path, { recursive: true, force: true });
    } catch {
      // Not an entry's folder, or one being built right now.
    }
  }
}

/**
 * A build's folder's time is when a process last started from it (see STALE_BUILD_MS).
 * @param {string} buildDir
 */
function markStarted(buildDir) {
  const now = new Date();
  try {
    utimesSync(buildDir, now, now);
  } catch {
    // A read-only cache: its builds are never removed by age either.
  }
}

/**
 * @param {string} entryDir
 * @param {string} current
 */
function removeStaleBuilds(entryDir, current) {
  for (const name of readdirSync(entryDir)) {
    if (name === current || name === 'index.json') continue;
    const path = join(entryDir, name);
    try {
      if (Date.now() - statSync(path).mtimeMs > STALE_BUILD_MS) rmSync(path, { recursive: true, force: true });
    } catch {
      // Removed by another process meanwhile.
    }
  }
}
