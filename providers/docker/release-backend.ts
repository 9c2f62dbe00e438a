import type { DeployEvents } from '../../components/events/deploy-events.js';
import { endpointUrl, grpcHealthCheck, httpReadyzCheck, type HealthCheck } from '../../components/health-gate/checks.js';
import type { ClientTls } from '../../components/health-gate/client-tls.js';
import { NetworkProbe } from './gate/network-probe.js';
import { stagingChecks } from './gate/staging-gate.js';
import { acquireDeployLock } from './lock/deploy-lock.js';
import { pendingMigrations, runMigrations } from './migrate/run-migrations.js';
import { TK_PATHS } from './proxy/constants.js';
import { ensureProxyConfig } from './proxy/load-caddy-config.js';
import { certificateNames, readLocalCaRoot } from './proxy/public-tls.js';
import { readProxyState } from './proxy/read-proxy-state.js';
import { restoreRouting, stageSlot, switchTraffic } from './proxy/switch-traffic.js';
import { pruneImages } from './prune/prune-images.js';
import type { ReleasePlan, Slot } from '../../components/release/plan.js';
import type { CheckSet, DrainReport, ReleaseBackend, SnapshotRecord } from '../../components/release/ports.js';
import type { ReleaseSpec } from './spec.js';
import { drainSlot } from './drain/drain-slot.js';
import { removeSlot, startParkedSlot } from './slots/lifecycle.js';
import { slotContainers } from './slots/names.js';
import { startSlot } from './slots/start-slot.js';
import { applyRetention } from './snapshot/retention.js';
import { restoreInstructions } from './snapshot/restore-snapshot.js';
import { listSnapshots } from './snapshot/snapshot-folder.js';
import { takeSnapshot } from './snapshot/take-snapshot.js';
import { findSnapshot } from './snapshot/verify-snapshot.js';
import type { DockerEngine } from './engine.js';
import { dockerSpecOf } from './release-plan.js';
import { readSlotRecord } from './slot-record.js';
import { dockerMonitoringPort } from './monitoring/release-port.js';

/**
 * What users reach through Caddy: the web UI, the sensor API's /readyz and its gRPC health. With
 * a domain, over TLS, checking the certificates for the domain names (trusting `ca` when given).
 */
export function publicChecks(spec: Pick<ReleaseSpec, 'proxy'>, releaseId: string, ca?: string): HealthCheck[] {
  const { tls } = spec.proxy;
  const clientTls = (serverName: string): ClientTls => ({ serverName, ...(ca !== undefined ? { ca } : {}) });
  const httpTls = tls ? clientTls(tls.domain) : undefined;
  return [
    httpReadyzCheck('public web-ui /readyz', endpointUrl(spec.proxy.publicHttpUrl, '/readyz'), releaseId, httpTls),
    httpReadyzCheck('public sensor-api /readyz', endpointUrl(spec.proxy.publicHttpUrl, `${TK_PATHS.sensorApi}/readyz`), releaseId, httpTls),
    grpcHealthCheck('public sensor-api gRPC health', spec.proxy.publicGrpcAddress, '', tls ? clientTls(tls.grpcDomain) : undefined),
  ];
}

/**
 * What the public verification trusts the certificates by: with docker.tls internal, the root of
 * Caddy's local CA, read from the Caddy container (its /data volume keeps it across releases);
 * otherwise (ACME) the public CAs Node ships, as a browser or sensor would.
 */
async function publicEndpointCa(engine: DockerEngine, spec: Pick<ReleaseSpec, 'proxy'>): Promise<string | undefined> {
  return spec.proxy.tls?.issuer === 'internal' ? readLocalCaRoot(engine, spec.proxy.container) : undefined;
}

/** Why users may not reach a release: Caddy's log, and with a domain where the certificates stand. */
function diagnoseRouter(spec: Pick<ReleaseSpec, 'proxy'>): string {
  const { tls, container, publicHttpUrl } = spec.proxy;
  if (!tls) return `docker logs ${container}; curl ${endpointUrl(publicHttpUrl, '/readyz')}`;
  return (
    `docker logs ${container} (its "tls" lines say whether the certificates for ${certificateNames(tls).join(' and ')} were obtained: ` +
    'their DNS records must point at this host and its ports 80 and 443 be reachable); then pulumi up again'
  );
}

function closingAll(checks: HealthCheck[], also: () => Promise<void> = async () => undefined): CheckSet {
  return {
    checks,
    async close() {
      for (const check of checks) check.close();
      await also();
    },
  };
}

async function imageExists(engine: DockerEngine, ref: string): Promise<boolean> {
  return (await engine.exec(['image', 'inspect', '--format', '{{.Id}}', ref])).exitCode === 0;
}

export interface DockerBackendOptions {
  /** The gate's probe container, already starting; its owner removes it (withDockerBackend). */
  probe?: Promise<NetworkProbe>;
}

/**
 * The backend of one release process. The gate's probe container starts at once, beside the
 * lock, the routing read and the migration check: starting it (node and grpc-js in the app
 * image) takes a second, which a rollback to a running slot would otherwise spend waiting. It is
 * removed when `work` ends, whether or not a gate used it.
 */
export async function withDockerBackend<T>(engine: DockerEngine, plan: ReleasePlan, work: (backend: ReleaseBackend) => Promise<T>): Promise<T> {
  const probe = NetworkProbe.start(engine, dockerSpecOf(plan));
  probe.catch(() => undefined);
  try {
    return await work(dockerReleaseBackend(engine, plan, { probe }));
  } finally {
    await probe.then((started) => started.close(), () => undefined);
  }
}

/**
 * The release pipeline's ports on one Docker engine (local, tcp:// or ssh://): a lock container,
 * Caddy's routing markers, blue and green slot containers parked after a drain, pg_dump inside
 * the PostgreSQL container, the stack's image repository, and health probes from a container on
 * the stack's network. `plan` is the stack's current plan: where its containers are.
 */
export function dockerReleaseBackend(engine: DockerEngine, plan: ReleasePlan, options: DockerBackendOptions = {}): ReleaseBackend {
  const stack = dockerSpecOf(plan);
  // Caddy routes to `release`, with the stack's proxy config: a rollback to a release planned
  // before the domain, the ports or the drain changed must not load that older config.
  const routed = (release: ReleasePlan): ReleaseSpec => ({ ...stack, image: release.image });
  return {
    lock: {
      acquire: (holder, options) => acquireDeployLock(engine, stack, holder, options),
    },
    routing: {
      async read() {
        const state = await readProxyState(engine, stack);
        await ensureProxyConfig(engine, stack, state);
        return state.routing;
      },
      async stage(release, slot, live) {
        await stageSlot(engine, routed(release), { live, slot });
      },
      switchTo: (release, slot, expectedLive) => switchTraffic(engine, routed(release), slot, { expectedLive }),
      restore: (switched) => restoreRouting(engine, stack, switched),
    },
    slots: {
      describe: (slot) => readSlotRecord(engine, stack.prefix, slot),
      async start(release, slot, secrets) {
        await startSlot(engine, dockerSpecOf(release), slot, { secrets });
      },
      async resume(release, slot) {
        await startParkedSlot(engine, dockerSpecOf(release), slot);
      },
      async park(slot, standby): Promise<DrainReport> {
        if (standby === 'running') return { slot, clean: true, details: slotContainers(stack.prefix, slot).map((c) => `${c.name}: standby (running, unrouted)`) };
        const report = await drainSlot(engine, stack, slot);
        return { slot, clean: report.clean, details: report.containers.map((c) => `${c.name}: ${c.outcome}`) };
      },
      remove: (slot) => removeSlot(engine, stack, slot),
    },
    database: {
      migrationStatus: (release, secrets) => pendingMigrations(engine, dockerSpecOf(release), { secrets }),
      snapshot: (release, events: DeployEvents) => takeSnapshot(engine, dockerSpecOf(release), { commit: release.image.commit, events }),
      migrate: (release, secrets, events) => runMigrations(engine, dockerSpecOf(release), { secrets, events }),
      async applyRetention(release, now, events) {
        await applyRetention(engine, dockerSpecOf(release), now, { events });
      },
      listSnapshots: (): Promise<SnapshotRecord[]> => listSnapshots(engine, stack),
      async restoreHint(release, snapshot) {
        const spec = dockerSpecOf(release);
        return restoreInstructions(spec, await findSnapshot(engine, spec, snapshot.name));
      },
    },
    images: {
      async prune(release) {
        return { removed: (await pruneImages(engine, dockerSpecOf(release))).removed };
      },
      exists: (release) => imageExists(engine, release.image.ref),
      async builtAt(release) {
        return new Date((await engine.run(['image', 'inspect', '--format', '{{.Created}}', release.image.ref])).trim());
      },
    },
    gate: {
      async staging(release) {
        const spec = dockerSpecOf(release);
        if (options.probe) return closingAll(stagingChecks(await options.probe, spec, release.image.releaseId));
        const probe = await NetworkProbe.start(engine, spec);
        return closingAll(stagingChecks(probe, spec, release.image.releaseId), () => probe.close());
      },
      async public(release) {
        return closingAll(publicChecks(stack, release.image.releaseId, await publicEndpointCa(engine, stack)));
      },
      diagnose(subject: Slot | 'router') {
        if (subject === 'router') return diagnoseRouter(stack);
        return slotContainers(stack.prefix, subject).map((c) => `docker logs ${c.name}`).join('; ');
      },
    },
    ...(stack.monitoring ? { monitoring: dockerMonitoringPort(engine, stack.prefix, stack.monitoring) } : {}),
  };
}
