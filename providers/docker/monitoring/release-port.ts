import { posix } from 'node:path';
import type { AppScrapeTarget } from '../../../components/monitoring/prometheus-config.js';
import { renderAppScrapeTargets } from '../../../components/monitoring/prometheus-config.js';
import { DEPLOY_METRICS_FILE } from '../../../components/monitoring/deploy-metrics.js';
import type { MonitoringPort, ScrapedSlot } from '../../../components/release/ports.js';
import { DockerCommandError, type DockerEngine } from '../engine.js';
import { slotContainers } from '../slots/names.js';
import type { DockerMonitoringRelease } from './plan.js';

/** The app instances of `slots` as Prometheus reaches them: container names on the stack's network. */
export function scrapeTargetsOf(prefix: string, monitoring: DockerMonitoringRelease, slots: readonly ScrapedSlot[]): AppScrapeTarget[] {
  return slots.flatMap(({ slot, role }) =>
    slotContainers(prefix, slot).map(({ service, name }) => ({ service, address: `${name}:${monitoring.metricsPorts[service]}`, slot, role })),
  );
}

// Written as root: the folders are volumes Docker created root-owned, and the images run as
// nobody. Replaced atomically (a reader never sees half a file): write `.<name>.tmp`, then
// rename; node-exporter ignores names not ending in .prom, Prometheus only reads the lists it names.
const WRITE_ATOMICALLY = 'set -e; dir=$(dirname "$1"); tmp="$dir/.$(basename "$1").tmp"; cat > "$tmp"; chmod 0644 "$tmp"; mv -f "$tmp" "$1"';

async function writeFile(engine: DockerEngine, container: string, path: string, text: string): Promise<void> {
  await engine.run(['exec', '-i', '--user', '0', container, 'sh', '-c', WRITE_ATOMICALLY, 'sh', path], { input: text, timeoutMs: 30_000 });
}

/**
 * The monitoring port on a Docker engine: `docker exec` into the Prometheus and node-exporter
 * containers (so it works over ssh:// like every other docker call of a release).
 */
export function dockerMonitoringPort(engine: DockerEngine, prefix: string, monitoring: DockerMonitoringRelease): MonitoringPort {
  const metricsFile = posix.join(monitoring.textfileDir, DEPLOY_METRICS_FILE);
  return {
    async scrape(slots) {
      const files = renderAppScrapeTargets(scrapeTargetsOf(prefix, monitoring, slots));
      for (const [path, text] of Object.entries(files)) {
        // PROMETHEUS_FILES.appTargets are relative to the config folder; targetsDir is their folder.
        await writeFile(engine, monitoring.prometheusContainer, posix.join(monitoring.targetsDir, posix.basename(path)), text);
      }
    },
    async readDeployMetrics() {
      const result = await engine.exec(['exec', monitoring.nodeExporterContainer, 'cat', metricsFile], { timeoutMs: 30_000 });
      if (result.exitCode === 0) return result.stdout;
      if (/No such file/i.test(result.stderr) && !/No such container/i.test(result.stderr)) return '';
      throw new DockerCommandError(['exec', monitoring.nodeExporterContainer, 'cat', metricsFile], result);
    },
    writeDeployMetrics: (text) => writeFile(engine, monitoring.nodeExporterContainer, metricsFile, text),
  };
}
