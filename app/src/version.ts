import { readFileSync } from 'node:fs';
import type { BuildInfo } from './metrics/registry.js';

/**
 * The build's identity, embedded by scripts/build.mjs as dist/build-info.json. Running from
 * source (tests, tsx) there is no such file: the version comes from package.json and the
 * commit and date read "development".
 */
function readJson(url: URL): Record<string, unknown> | undefined {
  try {
    return JSON.parse(readFileSync(url, 'utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

function loadBuildInfo(): BuildInfo {
  const embedded = readJson(new URL('./build-info.json', import.meta.url));
  if (embedded && typeof embedded.version === 'string') {
    return {
      version: embedded.version,
      commit: String(embedded.commit ?? 'unknown'),
      buildDate: String(embedded.buildDate ?? 'unknown'),
    };
  }
  const pkg = readJson(new URL('../package.json', import.meta.url));
  return { version: String(pkg?.version ?? '0.0.0'), commit: 'development', buildDate: 'development' };
}

export const BUILD_INFO: BuildInfo = loadBuildInfo();
