/**
 * The deploy benchmark (npm run bench:deploy), on a real Docker engine: the time of each phase
 * of a v1 -> v2 release with a migration, the switch and a rollback, then failed requests over
 * consecutive swaps under load, a config-only release, and (unless --no-ssh) the same rollbacks and
 * config-only release over SSH: an sshd on 127.0.0.1 in front of this machine's engine, reached
 * the way `pulumi up` reaches an ssh:// host; then (unless --no-engine) the same through `pulumi
 * up` and `tkctl rollback` through the real engine, where its plugins are installed
 * (bench/engine-lifecycle.ts), at --engine-rate requests/s of --engine-load (probes: /readyz and
 * gRPC health checks, the issue's load; app: pages and SyncRules), on the local engine and (unless
 * --no-ssh) on a stack whose docker.host is ssh://. Results go to results/deploy-bench.json (engine part:
 * results/deploy-bench-engine.json, and each stack's release events in results/deploy-bench-events-*.jsonl); nothing is asserted.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DockerEngine } from '../providers/docker/engine.js';
import { openDockerTunnel } from '../providers/docker/ssh-tunnel.js';
import { REPO_ROOT, requireDocker, testEngine, uniqueName } from '../test/support/images.js';
import { sshdMissing, startSshHost } from '../test/support/ssh-host.js';
import { startLoad } from '../test/support/load.js';
import { createReleaseFixture, releaseId } from '../test/support/release-fixture.js';
import { benchThroughEngine, type EngineRun, type EngineUp, type Window } from './engine-lifecycle.js';

const { values } = parseArgs({
  options: {
    swaps: { type: 'string', default: '10' },
    rate: { type: 'string', default: '120' },
    out: { type: 'string' },
    'no-ssh': { type: 'boolean', default: false },
    'no-engine': { type: 'boolean', default: false },
    'engine-only': { type: 'boolean', default: false },
    'engine-rate': { type: 'string', default: '1300' },
    'engine-load': { type: 'string', default: 'probes' },
  },
});
const swaps = Number(values.swaps);
const rate = Number(values.rate);
const out = values.out ?? join(REPO_ROOT, 'results');

await requireDocker();
mkdirSync(out, { recursive: true });
if (!values['engine-only']) await benchReleaseProcess();
if (!values['no-engine']) await benchEngine();

async function benchEngine() {
  const requests = values['engine-load'];
  if (requests !== 'probes' && requests !== 'app') throw new Error(`--engine-load is probes (/readyz and gRPC health) or app (pages and SyncRules), not "${requests}"`);
  const result = await benchThroughEngine({ rate: Number(values['engine-rate']), requests, ssh: !values['no-ssh'], out, log: (line) => process.stdout.write(`${line}\n`) });
  writeFileSync(join(out, 'deploy-bench-engine.json'), `${JSON.stringify({ date: new Date().toISOString(), machine: { cpus: cpus().length, node: process.version }, load: { requests, rate: Number(values['engine-rate']) }, ...result }, null, 2)}\n`);
  if ('skipped' in result) {
    process.stdout.write(`through the engine: skipped (${result.skipped})\n`);
    return;
  }
  const t = (seconds: number | null | undefined) => (seconds == null ? '?' : seconds.toFixed(1));
  const line = (name: string, up: EngineUp) => {
    const e = up.engine;
    const step = e.releaseStep;
    return (
      `    ${name}: pulumi up ${up.seconds.toFixed(1)} s (the release process ${t(up.releaseSeconds)} s)\n` +
      `      engine begins ${t(e.prelude)} s, first resource ${t(e.firstResource)} s, release command ${step ? `${t(step.start)}-${t(step.end)}` : '-'} s, ` +
      `last step ${t(e.lastStep)} s, summary ${t(e.summary)} s; changed: ${e.steps.map((s) => `${s.urn} ${s.op} ${s.end === null ? '?' : t(s.end - s.start)} s`).join(', ')}`
    );
  };
  const rollbackLine = (run: EngineRun) =>
    `    tkctl rollback: traffic verified on the previous release ${t(run.rollback.switchedMs === null ? null : run.rollback.switchedMs / 1000)} s, recorded ${t(run.rollback.durationMs / 1000)} s, command ${t(run.rollback.seconds)} s (the checkout's first tkctl, which compiles it, ran before: ${t(run.rollback.firstTkctlSeconds)} s)` +
    (run.rollback.move
      ? `\n      traffic move: release process started ${t(run.rollback.move.startedAfterMs / 1000)} s after tkctl; ${Object.entries(run.rollback.move.phases).map(([phase, ms]) => `${phase} ${ms} ms`).join(', ')}`
      : '');
  const runLines = (title: string, run: EngineRun) => {
    const failed = run.load.http.failed + run.load.grpc.failed;
    const requests = run.load.http.ok + run.load.grpc.ok + failed;
    // Failures during a step are the step's; failures between steps are the load exceeding what this machine serves.
    // Each second counts for the step it falls in (the steps follow each other), by the time its requests were sent.
    const during = (window: Window) =>
      run.load.failuresBySecond.reduce((sum, n, second) => {
        const at = run.load.startedAt + second * 1000;
        return at >= window.start && at < window.end ? sum + n : sum;
      }, 0);
    const steps = [run.configOnly, ...(run.codeChange ? [run.codeChange] : []), run.rollback];
    const inSteps = steps.reduce((sum, step) => sum + during(step.window), 0);
    const probe = run.load.http.probeFailed + run.load.grpc.probeFailed;
    return [
      title,
      line('config-only release', run.configOnly),
      ...(run.codeChange ? [line('code change, warm build cache', run.codeChange)] : []),
      rollbackLine(run),
      `    requests: ${requests} sent at ${run.load.rate.toFixed(0)} req/s, ${run.load.notSent} not sent while half a second of requests awaited answers; failed ${failed}: ${steps.map((step, i) => `${['config-only', ...(run.codeChange ? ['code change'] : []), 'rollback'][i]} ${during(step.window)}`).join(', ')}, between the steps ${failed - inSteps}; probe-side timeouts (this process starved, not counted) ${probe}`,
      ...(failed > 0 ? [`    first failures: ${[...run.load.http.errors.slice(0, 3), ...run.load.grpc.errors.slice(0, 3)].join(' | ')}`] : []),
    ];
  };
  const { local, ssh } = result;
  const ratio = (remote: number | null, here: number | null) => (remote === null || here === null || here === 0 ? '?' : `${(remote / here).toFixed(2)}x`);
  process.stdout.write(
    [
      ...runLines('through the engine, local Docker engine:', local),
      ...('skipped' in ssh
        ? [`through the engine over SSH: skipped (${ssh.skipped})`]
        : [
            ...runLines('through the engine over SSH (docker.host ssh://, an sshd on 127.0.0.1):', ssh),
            `    over SSH vs local: config-only pulumi up ${ratio(ssh.configOnly.seconds, local.configOnly.seconds)}, rollback traffic ${ratio(ssh.rollback.switchedMs, local.rollback.switchedMs)}, rollback recorded ${ratio(ssh.rollback.durationMs, local.rollback.durationMs)}`,
          ]),
      `written to ${join(out, 'deploy-bench-engine.json')}`,
    ].join('\n') + '\n',
  );
}

async function benchReleaseProcess() {
  const fixture = await createReleaseFixture(uniqueName('tkbench'));
  try {
    const v1 = await fixture.releaseImage(releaseId('0.1.0', 1));
    const v2 = await fixture.releaseImage(releaseId('0.2.0', 2), { '002_bench.sql': 'ALTER TABLE rules ADD COLUMN bench_note VARCHAR(64) NULL;\n' });
    const first = await fixture.release(fixture.specFor(v1));
    const spec = fixture.specFor(v2);
    const apiKey = (await fixture.runApp(['api-keys', 'create', '--name', 'bench'])).trim();
    const load = startLoad({ httpUrl: spec.proxy.publicHttpUrl, grpcAddress: spec.proxy.publicGrpcAddress, apiKey }, { ratePerSecond: rate });

    const releaseStarted = performance.now();
    const second = await fixture.release(spec);
    const releaseSeconds = (performance.now() - releaseStarted) / 1000;
    type Swap = { seconds: number; switchMs: number; phases: Record<string, number> };
    const rollbacks = async (engine: DockerEngine, count: number): Promise<Swap[]> => {
      const times: Swap[] = [];
      for (let swap = 0; swap < count; swap += 1) {
        const started = performance.now();
        const outcome = await fixture.release(spec, { engine, rollback: {} });
        times.push({ seconds: (performance.now() - started) / 1000, switchMs: outcome.phases.switch ?? 0, phases: outcome.phases });
      }
      return times;
    };
    /** A release of the same image with another app setting: a new release id, no build, no migration. */
    let configChanges = 0;
    const configRelease = async (engine: DockerEngine) => {
      configChanges += 1;
      const started = performance.now();
      const outcome = await fixture.release(fixture.specFor(v2, { TK_SHUTDOWN_TIMEOUT_MS: String(10_000 + configChanges) }), { engine });
      return { seconds: (performance.now() - started) / 1000, phases: outcome.phases };
    };
    const mean = (times: { seconds: number }[]) => times.reduce((a, s) => a + s.seconds, 0) / times.length;

    const swapTimes = await rollbacks(testEngine, swaps);
    const configOnly = await configRelease(testEngine);
    let ssh: { rollbackSeconds: { mean: number; max: number }; configOnly: { seconds: number; phases: Record<string, number> }; swaps: Swap[]; localRollbackMean: number } | { skipped: string } | undefined;
    const sshSkip = values['no-ssh'] ? '--no-ssh' : sshdMissing();
    if (sshSkip) ssh = { skipped: sshSkip };
    else {
      const host = await startSshHost();
      const tunnel = await openDockerTunnel(`ssh://${host.alias}`, { sshArgs: host.sshArgs });
      try {
        const remote = new DockerEngine({ host: tunnel.host });
        const sshSwaps = await rollbacks(remote, Math.min(swaps, 4));
        const sshConfigOnly = await configRelease(remote);
        ssh = {
          swaps: sshSwaps,
          rollbackSeconds: { mean: mean(sshSwaps), max: Math.max(...sshSwaps.map((s) => s.seconds)) },
          localRollbackMean: mean(swapTimes),
          configOnly: sshConfigOnly,
        };
      } finally {
        await tunnel.close();
        await host.close();
      }
    }
    const report = await load.stop();
    const requests = report.http.ok + report.http.failed + report.grpc.ok + report.grpc.failed;
    const failed = report.http.failed + report.grpc.failed;
    const results = {
      date: new Date().toISOString(),
      machine: { cpus: cpus().length, node: process.version },
      firstRelease: first.phases,
      releaseV1toV2: { seconds: releaseSeconds, phases: second.phases, switchMs: second.phases.switch },
      swaps: swapTimes,
      rollbackSeconds: { max: Math.max(...swapTimes.map((s) => s.seconds)), mean: mean(swapTimes) },
      configOnlyRelease: configOnly,
      ssh,
      switchMs: { max: Math.max(...swapTimes.map((s) => s.switchMs)) },
      load: { requests, failed, availability: requests === 0 ? null : 1 - failed / requests, rate: report.rate, errors: [...report.http.errors, ...report.grpc.errors] },
    };
    writeFileSync(join(out, 'deploy-bench.json'), `${JSON.stringify(results, null, 2)}\n`);
    process.stdout.write(
      [
        `v1 -> v2 release with a migration: ${releaseSeconds.toFixed(1)} s (switch ${second.phases.switch} ms)`,
        `rollback (warm slot), ${swaps} swaps under load: mean ${results.rollbackSeconds.mean.toFixed(1)} s, max ${results.rollbackSeconds.max.toFixed(1)} s; switch max ${results.switchMs.max} ms`,
        `config-only release: ${configOnly.seconds.toFixed(1)} s`,
        ssh && 'skipped' in ssh
          ? `over SSH: skipped (${ssh.skipped})`
          : `over SSH (one tunnel): rollback mean ${ssh!.rollbackSeconds.mean.toFixed(1)} s (${(ssh!.rollbackSeconds.mean / mean(swapTimes)).toFixed(2)}x local), config-only release ${ssh!.configOnly.seconds.toFixed(1)} s (${(ssh!.configOnly.seconds / configOnly.seconds).toFixed(2)}x local)`,
        `requests during the run: ${requests}, failed ${failed} (${((results.load.availability ?? 0) * 100).toFixed(3)}% available) at ${report.rate.toFixed(0)} req/s`,
        `written to ${join(out, 'deploy-bench.json')}`,
      ].join('\n') + '\n',
    );
  } finally {
    await fixture.tearDown();
  }
}
