import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { Agent as HttpsAgent } from 'node:https';
import { grpcChannel, httpsGet, type ClientTls } from './client-tls.js';
import type { CheckOutcome } from './gate-state.js';

/** A probe the gate (or the post-switch verification) polls. */
export interface HealthCheck {
  /** Names the service, the endpoint and the address, e.g. `web-ui /readyz (http://...)`. */
  name: string;
  run(timeoutMs: number): Promise<CheckOutcome>;
  /** Releases connections (gRPC channels); called once polling is over. */
  close(): void;
}

const EXCERPT_CHARS = 300;

/** `base` (a configured URL, with or without a trailing slash) joined with an absolute path. */
export function endpointUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}${path}`;
}

function excerpt(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > EXCERPT_CHARS ? `${flat.slice(0, EXCERPT_CHARS)}...` : flat;
}

/**
 * A /readyz answer is a success only with HTTP 200 and `release` equal to the intended release
 * id: a stale container of an earlier release must never pass.
 */
export function evaluateReadyz(status: number, body: string, releaseId: string): CheckOutcome {
  let release: unknown;
  try {
    release = (JSON.parse(body) as { release?: unknown }).release;
  } catch {
    return { ok: false, detail: `HTTP ${status}, not the app's /readyz JSON: ${excerpt(body) || '(empty body)'}` };
  }
  if (status !== 200) return { ok: false, detail: `HTTP ${status} ${excerpt(body)}` };
  if (release !== releaseId) {
    return { ok: false, detail: `HTTP 200 but release ${JSON.stringify(release ?? null)}, not ${releaseId}` };
  }
  return { ok: true, detail: `HTTP 200 release ${releaseId}` };
}

/** What an HTTP probe saw: a response (status and body), or no response at all and why. */
export type HttpAnswer = { status: number; body: string } | { unreachable: string };

/** What a grpc.health.v1.Health/Check call returned: code 0 (OK) with the serving status, or an error. */
export interface GrpcHealthAnswer {
  code: number;
  details: string;
  /** ServingStatus name (`SERVING`, `NOT_SERVING`, ...) when code is 0. */
  status?: string;
}

/** The outcome of a /readyz probe, wherever it ran (this process or the stack's network). */
export function readyzOutcome(answer: HttpAnswer, releaseId: string): CheckOutcome {
  if ('unreachable' in answer) return { ok: false, detail: `no HTTP response: ${answer.unreachable}` };
  return evaluateReadyz(answer.status, answer.body, releaseId);
}

/** The outcome of a gRPC health call: only OK with SERVING is a success. */
export function grpcHealthOutcome(answer: GrpcHealthAnswer): CheckOutcome {
  if (answer.code !== grpc.status.OK) {
    return { ok: false, detail: `gRPC ${grpc.status[answer.code] ?? answer.code}: ${excerpt(answer.details)}` };
  }
  if (answer.status !== 'SERVING') return { ok: false, detail: `gRPC OK but status ${answer.status ?? 'missing'}, not SERVING` };
  return { ok: true, detail: 'gRPC SERVING' };
}

/** Why fetch() got no response: the socket error code (ECONNREFUSED, ...) when there is one. */
function unreachableReason(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message;
}

/** GET `url` from this process (the post-switch verification's public endpoints); over TLS with `tls`. */
export function httpReadyzCheck(name: string, url: string, releaseId: string, tls?: ClientTls): HealthCheck {
  if (tls) return httpsReadyzCheck(name, url, releaseId, tls);
  return {
    name: `${name} (${url})`,
    async run(timeoutMs) {
      let answer: HttpAnswer;
      try {
        const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' } });
        answer = { status: response.status, body: await response.text() };
      } catch (error) {
        answer = { unreachable: unreachableReason(error) };
      }
      return readyzOutcome(answer, releaseId);
    },
    close() {},
  };
}

interface HealthClient extends grpc.Client {
  Check(
    request: { service: string },
    options: grpc.CallOptions,
    callback: (error: grpc.ServiceError | null, response?: { status: string }) => void,
  ): grpc.ClientUnaryCall;
}

type HealthClientConstructor = new (address: string, credentials: grpc.ChannelCredentials, options?: grpc.ChannelOptions) => HealthClient;

let healthClientConstructor: HealthClientConstructor | undefined;

function loadHealthClient(): HealthClientConstructor {
  if (!healthClientConstructor) {
    const definition = protoLoader.loadSync(fileURLToPath(new URL('./health.proto', import.meta.url)), { enums: String, defaults: true });
    const loaded = grpc.loadPackageDefinition(definition) as unknown as { grpc: { health: { v1: { Health: HealthClientConstructor } } } };
    healthClientConstructor = loaded.grpc.health.v1.Health;
  }
  return healthClientConstructor;
}

/** Polling reconnects fast: a gate must not sit in grpc-js's default backoff of up to 2 minutes. */
const POLLING_CHANNEL_OPTIONS: grpc.ChannelOptions = {
  'grpc.initial_reconnect_backoff_ms': 200,
  'grpc.max_reconnect_backoff_ms': 1000,
};

function httpsReadyzCheck(name: string, url: string, releaseId: string, tls: ClientTls): HealthCheck {
  // One kept-alive connection for the whole polling, as fetch keeps one for plain HTTP.
  const agent = new HttpsAgent({ keepAlive: true, maxSockets: 1 });
  return {
    name: `${name} (${url}, TLS for ${tls.serverName})`,
    async run(timeoutMs) {
      return readyzOutcome(await httpsGet(url, { tls, timeoutMs, agent, headers: { accept: 'application/json' } }), releaseId);
    },
    close() {
      agent.destroy();
    },
  };
}

/**
 * grpc.health.v1.Health/Check from this process, over cleartext HTTP/2 (h2c), or over TLS with
 * `tls`; SERVING is a success.
 */
export function grpcHealthCheck(name: string, address: string, service = '', tls?: ClientTls): HealthCheck {
  const Client = loadHealthClient();
  const channel = grpcChannel(tls);
  const client = new Client(address, channel.credentials, { ...POLLING_CHANNEL_OPTIONS, ...channel.options });
  return {
    name: `${name} (${address}${tls ? `, TLS for ${tls.serverName}` : ''})`,
    run(timeoutMs) {
      return new Promise((resolve) => {
        client.Check({ service }, { deadline: Date.now() + timeoutMs }, (error, response) => {
          resolve(
            grpcHealthOutcome(
              error ? { code: error.code, details: error.details || error.message } : { code: grpc.status.OK, details: '', status: response?.status },
            ),
          );
        });
      });
    },
    close() {
      client.close();
    },
  };
}
