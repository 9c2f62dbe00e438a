import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { DockerEngine } from '../engine.js';
import { DeployError } from '../../../components/errors.js';
import { APP_IMAGE_DIR, type ReleaseSpec } from '../spec.js';
import { SLOT_LABELS } from '../slots/names.js';
import type { GrpcHealthAnswer, HttpAnswer } from '../../../components/health-gate/checks.js';
import { encodeProbeRequest, parseProbeReply, type ProbeRequest, type ProbeResult } from './network-probe-protocol.js';


/** `tk.role` of the probe container (the stack's other objects carry theirs). */
export const PROBE_ROLE = 'health-probe';

/** How long the probe container may take to start (create, attach, load grpc-js). */
export const DEFAULT_PROBE_START_TIMEOUT_MS = 30_000;

/**
 * A reply may come this long after the probe's own timeout (docker's stdio, a busy host) before
 * the container counts as hung and is replaced.
 */
export const DEFAULT_PROBE_ANSWER_MARGIN_MS = 5_000;

/** How long closing waits for the container to exit and be removed before killing it. */
const CLOSE_TIMEOUT_MS = 10_000;

const STDERR_TAIL_CHARS = 2_000;

let serverScript: string | undefined;

/** The source of network-probe-server.cjs, which the container runs with `node -e`. */
export function networkProbeScript(): string {
  serverScript ??= readFileSync(new URL('./network-probe-server.cjs', import.meta.url), 'utf8');
  return serverScript;
}

/** `<prefix>-gate-probe-<suffix>`: unique per probe container, under the stack's prefix. */
export function probeContainerName(prefix: string, suffix: string): string {
  return `${prefix}-gate-probe-${suffix}`;
}

/**
 * `docker run` of the probe: the release image (on the host already, never pulled) running
 * `node -e <script>` on the stack's network, attached to stdin so it ends with the gate (or with
 * the docker CLI, if that dies) and removed when it exits. No secrets, no published port,
 * read-only, no health check of its own.
 */
export function planNetworkProbe(spec: Pick<ReleaseSpec, 'stack' | 'network' | 'image'>, name: string, script: string): string[] {
  return [
    'run', '--rm', '--interactive',
    '--name', name,
    '--network', spec.network,
    '--label', `${SLOT_LABELS.stack}=${spec.stack}`,
    '--label', `tk.role=${PROBE_ROLE}`,
    '--pull', 'never',
    '--read-only',
    '--no-healthcheck',
    '--workdir', APP_IMAGE_DIR,
    '--entrypoint', 'node',
    spec.image.ref,
    '-e', script,
  ];
}

export interface NetworkProbeOptions {
  /** @default DEFAULT_PROBE_START_TIMEOUT_MS */
  startTimeoutMs?: number;
  /** @default DEFAULT_PROBE_ANSWER_MARGIN_MS */
  answerMarginMs?: number;
}

interface PendingRequest {
  resolve(result: ProbeResult): void;
  reject(error: Error): void;
}

/** One probe container and the docker CLI attached to it. */
interface ProbeContainer {
  name: string;
  child: ChildProcessWithoutNullStreams;
  pending: Map<number, PendingRequest>;
  stderr: string;
  exited: Promise<void>;
  alive: boolean;
}

function tail(text: string): string {
  const trimmed = text.trim();
  return trimmed.length > STDERR_TAIL_CHARS ? `...${trimmed.slice(-STDERR_TAIL_CHARS)}` : trimmed;
}

/**
 * Probes run from inside the stack's network, through the Docker engine: a container of the
 * release image answers HTTP and gRPC health requests sent over its stdin. The engine can be
 * local or remote (`DOCKER_HOST=ssh://...`); nothing needs a port published on the host. A
 * container that exits or stops answering is replaced at the next request.
 */
export class NetworkProbe {
  private current: ProbeContainer | undefined;
  private starting: Promise<ProbeContainer> | undefined;
  private nextId = 1;
  private closed = false;
  private readonly startTimeoutMs: number;
  private readonly answerMarginMs: number;

  private constructor(
    private readonly engine: DockerEngine,
    private readonly spec: Pick<ReleaseSpec, 'stack' | 'prefix' | 'network' | 'image'>,
    options: NetworkProbeOptions,
  ) {
    this.startTimeoutMs = options.startTimeoutMs ?? DEFAULT_PROBE_START_TIMEOUT_MS;
    this.answerMarginMs = options.answerMarginMs ?? DEFAULT_PROBE_ANSWER_MARGIN_MS;
  }

  /** Starts the probe container; throws DeployError when it cannot run on the stack's network. */
  static async start(
    engine: DockerEngine,
    spec: Pick<ReleaseSpec, 'stack' | 'prefix' | 'network' | 'image'>,
    options: NetworkProbeOptions = {},
  ): Promise<NetworkProbe> {
    const probe = new NetworkProbe(engine, spec, options);
    await probe.running();
    return probe;
  }

  /** GET `url` from the stack's network. Rejects only when the probe itself failed. */
  async http(url: string, timeoutMs: number): Promise<HttpAnswer> {
    const result = await this.request({ kind: 'http', url, timeoutMs });
    if ('http' in result) return result.http;
    throw new Error('failed' in result ? result.failed : 'the probe answered an HTTP request with a gRPC answer');
  }

  /** grpc.health.v1.Health/Check on `address` (h2c) from the stack's network. */
  async grpcHealth(address: string, timeoutMs: number, service = ''): Promise<GrpcHealthAnswer> {
    const result = await this.request({ kind: 'grpc-health', address, service, timeoutMs });
    if ('grpc' in result) return result.grpc;
    throw new Error('failed' in result ? result.failed : 'the probe answered a gRPC request with an HTTP answer');
  }

  /** Ends the probe container (stdin closes, it exits and is removed); idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    const container = this.current ?? (await this.starting?.catch(() => undefined));
    this.current = undefined;
    if (!container?.alive) return;
    container.child.stdin.end();
    const exited = await Promise.race([container.exited.then(() => true), sleepFor(CLOSE_TIMEOUT_MS).then(() => false)]);
    if (!exited) await this.kill(container);
  }

  private async request(request: ProbeRequest): Promise<ProbeResult> {
    const container = await this.running();
    const id = this.nextId++;
    const waitMs = request.timeoutMs + this.answerMarginMs;
    return new Promise<ProbeResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        container.pending.delete(id);
        reject(new Error(`no answer from the probe container ${container.name} within ${waitMs} ms; it is replaced`));
        void this.kill(container);
      }, waitMs);
      container.pending.set(id, {
        resolve: (result) => {
          clearTimeout(timer);
          resolve(result);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      // It may have exited since running() returned; its exit handler has then run already.
      if (!container.alive) container.pending.get(id)?.reject(new Error(`the probe container ${container.name} exited`));
      else container.child.stdin.write(encodeProbeRequest(id, request));
    });
  }

  /** The live probe container, started (again) when there is none. */
  private async running(): Promise<ProbeContainer> {
    if (this.closed) throw new Error('the network probe is closed');
    if (this.current?.alive) return this.current;
    this.starting ??= this.launch()
      .then((container) => (this.current = container))
      .finally(() => {
        this.starting = undefined;
      });
    const container = await this.starting;
    if (this.closed) {
      await this.kill(container);
      throw new Error('the network probe is closed');
    }
    return container;
  }

  private launch(): Promise<ProbeContainer> {
    const name = probeContainerName(this.spec.prefix, randomBytes(4).toString('hex'));
    const args = planNetworkProbe(this.spec, name, networkProbeScript());
    const env: NodeJS.ProcessEnv = { ...process.env };
    if (this.engine.options.host) env.DOCKER_HOST = this.engine.options.host;
    // A long-lived attached CLI: DockerEngine.exec only runs commands to completion.
    const child = spawn(this.engine.options.binary ?? 'docker', args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let markExited!: () => void;
    const container: ProbeContainer = {
      name,
      child,
      pending: new Map(),
      stderr: '',
      exited: new Promise((resolve) => (markExited = resolve)),
      alive: true,
    };
    const cannotStart = (why: string) =>
      new DeployError(
        `The health gate's probe container could not start on the network ${this.spec.network}: ${why}`,
        `check the network and the release image on the Docker host: docker network inspect ${this.spec.network}; ` +
          `docker run --rm --network ${this.spec.network} --entrypoint node ${this.spec.image.ref} --version`,
      );

    return new Promise<ProbeContainer>((resolve, reject) => {
      let ready = false;
      const timer = setTimeout(() => {
        reject(cannotStart(`not ready within ${this.startTimeoutMs} ms${container.stderr ? `: ${tail(container.stderr)}` : ''}`));
        void this.kill(container);
      }, this.startTimeoutMs);
      child.stderr.on('data', (chunk: Buffer) => {
        container.stderr = (container.stderr + chunk.toString('utf8')).slice(-STDERR_TAIL_CHARS * 2);
      });
      child.stdin.on('error', () => undefined);
      createInterface({ input: child.stdout }).on('line', (line) => {
        const reply = parseProbeReply(line);
        if (!reply) return;
        if ('ready' in reply) {
          ready = true;
          clearTimeout(timer);
          resolve(container);
          return;
        }
        const { id, ...result } = reply;
        const pending = container.pending.get(id);
        container.pending.delete(id);
        pending?.resolve(result);
      });
      child.on('error', (error) => {
        clearTimeout(timer);
        container.alive = false;
        reject(cannotStart(`cannot run the docker CLI: ${error.message}`));
        markExited();
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        container.alive = false;
        const why = `exited with ${signal ?? code}${container.stderr.trim() ? `: ${tail(container.stderr)}` : ''}`;
        if (!ready) reject(cannotStart(`docker run ${why}`));
        for (const pending of container.pending.values()) pending.reject(new Error(`the probe container ${name} ${why}`));
        container.pending.clear();
        markExited();
      });
    });
  }

  /** Kills the attached CLI and removes the container (it may be hung, not just its CLI). */
  private async kill(container: ProbeContainer): Promise<void> {
    if (this.current === container) this.current = undefined;
    container.alive = false;
    container.child.stdin.destroy();
    container.child.kill('SIGKILL');
    await this.engine.exec(['rm', '--force', '--volumes', container.name], { timeoutMs: CLOSE_TIMEOUT_MS }).catch(() => undefined);
    await Promise.race([container.exited, sleepFor(CLOSE_TIMEOUT_MS)]);
  }
}

function sleepFor(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
