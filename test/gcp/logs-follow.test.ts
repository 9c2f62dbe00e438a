/**
 * `tkctl logs --follow` on a GCP stack found from its Pulumi.<stack>.yaml: the live revisions'
 * stdout and stderr from Cloud Logging (emulator/cloud-logging.ts), the live slot from the Cloud
 * Run Admin API emulator (control plane only: revisions are ready at once, nothing runs on
 * Docker). Lines written while it follows are printed once each and none is lost, whatever
 * timestamp they share with the lines before them; Ctrl-C (SIGINT) ends it cleanly.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { stringify as stringifyYaml } from 'yaml';
import { APP_SERVICES, type AppService } from '../../components/release/plan.js';
import { parseStackConfig } from '../../providers/config.js';
import { CANARY_ENV, pulumiConfig } from '../../providers/docker/testing.js';
import { startCloudRunEmulator, type CloudRunEmulator } from '../../providers/gcp/cloud-run-emulator.js';
import { startCloudLoggingEmulator, type CloudLoggingEmulator } from '../../providers/gcp/emulator/cloud-logging.js';
import { databaseUrl, planGcpInfrastructure, type GcpInfrastructureSpec } from '../../providers/gcp/infrastructure-spec.js';
import { loggingClient, type LoggingClient } from '../../providers/gcp/logs/revision-logs.js';
import { GCP_REVISION_REFS_ENV, gcpTargetOf } from '../../providers/gcp/plan-target.js';
import { planGcpRelease } from '../../providers/gcp/release-plan.js';
import { cloudRunRouting } from '../../providers/gcp/routing/cloud-run-routing.js';
import { cloudRunServiceName } from '../../providers/gcp/routing/cloud-run-traffic.js';
import { readSlots } from '../../providers/gcp/routing/traffic-plan.js';
import { cloudRunClients, type CloudRunClients } from '../../providers/gcp/run/clients.js';
import { traffic, type CloudRunStack } from '../../providers/gcp/run/stack.js';
import { cloudRunSlots } from '../../providers/gcp/slots/cloud-run-slots.js';
import { startTkctlInProcess } from '../tkctl/harness.js';

process.env.METADATA_SERVER_DETECTION = 'none';

const GCP_SECTION = { project: 'tk-test-project', projectNumber: '123456789012', region: 'europe-west1', artifactRepository: 'tk-test' };
const IMAGE = { tag: '0.1.0-0123abcd-20261202T100000Z', version: '0.1.0', commit: '0123abcd' };

describe('tkctl logs --follow on a GCP stack (Cloud Logging and Cloud Run Admin API emulators)', { timeout: 180_000 }, () => {
  const stack = `f${randomBytes(3).toString('hex')}`;
  let run: CloudRunEmulator;
  let logging: CloudLoggingEmulator;
  let clients: CloudRunClients;
  let writer: LoggingClient;
  let spec: GcpInfrastructureSpec;
  let dir: string;
  /** The live revision of each service, as Cloud Logging labels its lines. */
  const live = {} as Record<AppService, string>;

  before(async () => {
    const config = parseStackConfig({
      stack,
      config: pulumiConfig({ provider: 'gcp', gcp: GCP_SECTION, database: { name: 'trapperkeeper', user: 'trapperkeeper' } }),
      processEnv: CANARY_ENV,
      envFile: { path: `.env.${stack}`, values: {} },
    });
    assert.ok(config.provider === 'gcp');
    spec = planGcpInfrastructure(config);
    const plan = planGcpRelease(config, spec, IMAGE);

    // A first release through the release's own ports: blue started, staged, switched to.
    run = await startCloudRunEmulator();
    for (const service of APP_SERVICES) await run.addService(cloudRunServiceName(spec.project, spec.region, spec.services[service].name));
    clients = cloudRunClients({ host: run.host, port: run.port });
    const cloudRun: CloudRunStack = { target: gcpTargetOf(plan), clients, progress: () => undefined };
    const refs = { databaseUrl: databaseUrl(spec, { connectionName: `${spec.project}:${spec.region}:${spec.database.instance}`, privateIp: '' }), secretVersions: Object.fromEntries(spec.secrets.map((s) => [s.env, '1'])) };
    await cloudRunSlots(cloudRun).start(plan, 'blue', { [GCP_REVISION_REFS_ENV]: JSON.stringify(refs) });
    const routing = cloudRunRouting(cloudRun);
    await routing.stage(plan, 'blue', null);
    await routing.switchTo(plan, 'blue', null);
    for (const service of APP_SERVICES) live[service] = readSlots(await traffic(cloudRun, service).read()).live!.revision;

    logging = await startCloudLoggingEmulator();
    writer = loggingClient({ host: logging.host, port: logging.port });
    dir = mkdtempSync(join(tmpdir(), 'tk-gcp-logs-'));
    writeFileSync(
      join(dir, `Pulumi.${stack}.yaml`),
      stringifyYaml({ config: { 'trapperkeeper:provider': 'gcp', 'trapperkeeper:gcp': GCP_SECTION, 'trapperkeeper:database': { name: 'trapperkeeper', user: 'trapperkeeper' } } }),
    );
  });

  after(async () => {
    await writer?.close();
    await clients?.close();
    await logging?.stop();
    await run?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Writes lines as Cloud Run's log agent does: the revision's resource labels, the stream's log, the time the line was written. */
  async function write(...lines: Array<{ service: AppService; stream: 'stdout' | 'stderr' | 'requests'; text: string; at: number }>): Promise<void> {
    await writer.writeLogEntries({
      entries: lines.map(({ service, stream, text, at }) => ({
        logName: `projects/${spec.project}/logs/run.googleapis.com%2F${stream}`,
        resource: { type: 'cloud_run_revision', labels: { service_name: spec.services[service].name, revision_name: live[service], location: spec.region, configuration_name: spec.services[service].name } },
        timestamp: { seconds: Math.floor(at / 1000), nanos: (at % 1000) * 1e6 },
        textPayload: text,
      })),
    });
  }

  it('prints each line written while it follows once, none lost, and ends cleanly on Ctrl-C', async () => {
    const started = Date.now();
    await write({ service: 'web-ui', stream: 'stdout', text: 'before 1', at: started - 5000 }, { service: 'sensor-api', stream: 'stderr', text: 'before 2', at: started - 4990 });

    const signalListeners = process.listenerCount('SIGINT');
    const follow = startTkctlInProcess(['logs', '--follow', '--stack', stack], dir, undefined, {
      gcp: { cloudRunEndpoint: { host: run.host, port: run.port }, loggingEndpoint: { host: logging.host, port: logging.port } },
    });
    let ended = false;
    void follow.exited.finally(() => (ended = true));
    const printed = () => `${follow.stdout}${follow.stderr}`;
    const until = async (text: string) => {
      for (const deadline = Date.now() + 20_000; !printed().includes(text); await sleep(50)) {
        if (ended || Date.now() > deadline) assert.fail(`${ended ? 'the follow ended' : 'waited 20 s'} without printing "${text}"; printed:\n${printed()}`);
      }
    };

    await until('sensor-api | before 2');
    // Lines as they come, over several polls. The third has the very millisecond of the last
    // line printed before it (the follow's cursor): it must be printed, and what shares that
    // millisecond, read again from the cursor, not a second time.
    const at = Date.now();
    await write({ service: 'web-ui', stream: 'stdout', text: 'follow 1', at }, { service: 'sensor-api', stream: 'stdout', text: 'follow 2', at: at + 1 });
    await until('sensor-api | follow 2');
    await write(
      { service: 'web-ui', stream: 'stdout', text: 'follow 3', at: at + 1 },
      { service: 'sensor-api', stream: 'stderr', text: 'follow 4', at: Date.now() },
      { service: 'web-ui', stream: 'requests', text: 'GET /readyz 200 (the request log)', at: Date.now() },
    );
    await until('sensor-api | follow 4');
    // Several polls with nothing new (each reads the last lines again): nothing printed twice, and it keeps following.
    await sleep(5_000);
    await write({ service: 'web-ui', stream: 'stdout', text: 'follow 5', at: Date.now() });
    await until('web-ui | follow 5');

    assert.equal(ended, false, 'still following until interrupted');
    assert.ok(process.listenerCount('SIGINT') > signalListeners, 'the follow listens for Ctrl-C');
    process.kill(process.pid, 'SIGINT');
    const code = await Promise.race([follow.exited, sleep(10_000).then(() => 'still running 10 s after Ctrl-C')]);
    assert.equal(code, 0, printed());
    assert.equal(process.listenerCount('SIGINT'), signalListeners, 'Ctrl-C is not caught after the follow ended');

    assert.deepEqual(follow.stdout.split('\n'), ['web-ui | before 1', 'web-ui | follow 1', 'sensor-api | follow 2', 'web-ui | follow 3', 'web-ui | follow 5', '']);
    assert.deepEqual(follow.stderr.split('\n'), ['sensor-api | before 2', 'sensor-api | follow 4', '']);
  });
});
