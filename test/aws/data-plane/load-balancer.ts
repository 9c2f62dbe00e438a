/**
 * The Application Load Balancer's data plane, for the tests: one TLS listener on 127.0.0.1 per
 * listener of the stack (public web and gRPC, the gate's test web and gRPC), where moto has the
 * listener's configuration but nothing answers. Like the ALB it routes every request afresh: it
 * reads the listener's default action from moto (cached `cacheMs`, 100 ms, so a ModifyListener
 * takes effect within that, as on the ALB within seconds), answers a fixed-response itself, and for
 * a forward picks a target group by weight, then a healthy registered target of it (moto's
 * registrations, the health checker's states; all of them when none is healthy, as the ALB fails
 * open; 503 when the group has none), and proxies to that task's port on 127.0.0.1: HTTP/1.1 to
 * an HTTP1 target group, HTTP/2 cleartext to a GRPC one (trailers included, so grpc-status
 * arrives). Clients connect with TLS (HTTP/1.1 or h2 by ALPN) and see the listener's certificate,
 * here a self-signed one for 127.0.0.1 that stands in for the stack's ACM certificate.
 *
 * The ports are chosen free at start; the test declares the stack's listeners on them in moto (the
 * release plan carries its listener ports, and the gate dials the domain at them).
 */
import { request as httpRequest, Agent, type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import { connect as http2Connect, createSecureServer, type ClientHttp2Session, type Http2SecureServer, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import type { Socket } from 'node:net';
import {
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  type Action,
  type ElasticLoadBalancingV2Client,
  type TargetGroup,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { AwsListenerPorts } from '../../../providers/aws/plan-target.js';
import type { TestCertificate } from './certificate.js';
import type { TargetHealthChecker } from './target-health.js';

export interface LoadBalancerOptions {
  /** The stand-in's own (not mocked) client to moto. */
  elbv2: ElasticLoadBalancingV2Client;
  /** The load balancer's name in moto. */
  loadBalancer: string;
  certificate: TestCertificate;
  health: TargetHealthChecker;
  /** 127.0.0.1's port of a task's address and container port (the ECS stand-in). */
  hostPort(address: string, containerPort: number): number | undefined;
  /** @default 100 */
  cacheMs?: number;
}

export interface LoadBalancerStandIn {
  /** The listener ports, by role, to declare in moto and put in the release plan. */
  listeners: AwsListenerPorts;
  stop(): Promise<void>;
}

type Request = IncomingMessage | Http2ServerRequest;
type Response = ServerResponse | Http2ServerResponse;

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'host', 'http2-settings']);

function forwardable(headers: IncomingHttpHeaders | Record<string, unknown>, keepTe: boolean): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (name.startsWith(':') || HOP_BY_HOP.has(name) || value === undefined) continue;
    if (name === 'te' && !keepTe) continue;
    out[name] = value as string | string[];
  }
  return out;
}

/** A cache of one value for `ms`, refreshed on the next use after that. */
function cached<T>(ms: number, load: () => Promise<T>): () => Promise<T> {
  let value: Promise<T> | undefined;
  let at = 0;
  return () => {
    if (!value || Date.now() - at > ms) {
      at = Date.now();
      value = load();
      value.catch(() => {
        value = undefined;
      });
    }
    return value;
  };
}

export async function startLoadBalancerStandIn(options: LoadBalancerOptions): Promise<LoadBalancerStandIn> {
  const cacheMs = options.cacheMs ?? 100;
  const agent = new Agent({ keepAlive: true });
  const sessions = new Map<number, ClientHttp2Session>();
  const sockets = new Set<Socket>();
  const groups = new Map<string, Promise<TargetGroup>>();
  const targetCaches = new Map<string, () => Promise<Array<{ id: string; port: number }>>>();
  let roundRobin = 0;

  let balancerArn: string | undefined;
  const actionsByPort = cached(cacheMs, async () => {
    balancerArn ??= (await options.elbv2.send(new DescribeLoadBalancersCommand({ Names: [options.loadBalancer] }))).LoadBalancers?.[0]?.LoadBalancerArn;
    const { Listeners: listeners } = await options.elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: balancerArn }));
    return new Map((listeners ?? []).map((l) => [l.Port!, l.DefaultActions ?? []] as const));
  });
  const groupOf = (arn: string) => {
    let found = groups.get(arn);
    if (!found) {
      found = options.elbv2.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [arn] })).then((r) => r.TargetGroups![0]!);
      groups.set(arn, found);
    }
    return found;
  };
  /** The targets registered in moto (its DescribeTargetHealth lists them; their health is the checker's). */
  const registered = (arn: string) => {
    let load = targetCaches.get(arn);
    if (!load) {
      load = cached(cacheMs, async () =>
        ((await options.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn }))).TargetHealthDescriptions ?? []).map((d) => ({ id: d.Target!.Id!, port: d.Target!.Port! })),
      );
      targetCaches.set(arn, load);
    }
    return load();
  };

  function answer(res: Response, status: number, body: string, contentType = 'text/plain'): void {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.writeHead(status, { 'content-type': contentType });
    res.end(body);
  }

  function weighted(action: Action): string | undefined {
    const choices = action.ForwardConfig?.TargetGroups ?? (action.TargetGroupArn ? [{ TargetGroupArn: action.TargetGroupArn, Weight: 1 }] : []);
    const total = choices.reduce((sum, c) => sum + (c.Weight ?? 1), 0);
    let at = Math.random() * total;
    for (const choice of choices) {
      at -= choice.Weight ?? 1;
      if ((choice.Weight ?? 1) > 0 && at < 0) return choice.TargetGroupArn;
    }
    return undefined;
  }

  function proxyHttp1(req: Request, res: Response, port: number, listenerPort: number): void {
    const headers = forwardable(req.headers, false);
    headers.host = (req.headers[':authority'] as string | undefined) ?? req.headers.host ?? '';
    headers['x-forwarded-for'] = req.socket?.remoteAddress ?? '127.0.0.1';
    headers['x-forwarded-proto'] = 'https';
    headers['x-forwarded-port'] = String(listenerPort);
    const upstream = httpRequest({ host: '127.0.0.1', port, method: req.method, path: req.url, headers, agent }, (response) => {
      res.writeHead(response.statusCode ?? 502, forwardable(response.headers, false));
      response.pipe(res as NodeJS.WritableStream);
    });
    upstream.on('error', () => answer(res, 502, 'the target did not answer'));
    (req as NodeJS.ReadableStream).pipe(upstream);
  }

  function proxyHttp2(req: Request, res: Response, port: number): void {
    let session = sessions.get(port);
    if (!session || session.closed || session.destroyed) {
      const fresh = http2Connect(`http://127.0.0.1:${port}`);
      fresh.on('error', () => undefined);
      fresh.on('close', () => sessions.get(port) === fresh && sessions.delete(port));
      sessions.set(port, fresh);
      session = fresh;
    }
    const stream = session.request({
      ':method': req.method ?? 'POST',
      ':path': req.url ?? '/',
      ':scheme': 'http',
      ':authority': (req.headers[':authority'] as string | undefined) ?? req.headers.host ?? `127.0.0.1:${port}`,
      ...forwardable(req.headers, true),
    });
    stream.on('response', (headers) => {
      res.writeHead(Number(headers[':status'] ?? 502), forwardable(headers, false));
    });
    stream.on('trailers', (trailers) => {
      if ('addTrailers' in res) (res as Http2ServerResponse).addTrailers(forwardable(trailers, false) as Record<string, string>);
    });
    stream.on('data', (chunk: Buffer) => (res as NodeJS.WritableStream).write(chunk));
    stream.on('end', () => res.end());
    stream.on('error', () => answer(res, 502, 'the target did not answer'));
    (req as NodeJS.ReadableStream).pipe(stream);
  }

  async function handle(listenerPort: number, req: Request, res: Response): Promise<void> {
    const actions = (await actionsByPort()).get(listenerPort);
    const action = actions?.[0];
    if (!action) return answer(res, 503, `no listener on port ${listenerPort} in moto`);
    if (action.Type === 'fixed-response') {
      return answer(res, Number(action.FixedResponseConfig?.StatusCode ?? 503), action.FixedResponseConfig?.MessageBody ?? '', action.FixedResponseConfig?.ContentType);
    }
    if (action.Type !== 'forward') return answer(res, 500, `the stand-in does not do ${action.Type} actions`);
    const arn = weighted(action);
    if (!arn) return answer(res, 503, 'no target group with a positive weight');
    const group = await groupOf(arn);
    const all = await registered(arn);
    const states = all.map((t) => ({ ...t, state: options.health.state({ targetGroupArn: arn, id: t.id, port: t.port })?.State }));
    const healthy = states.filter((t) => t.state === 'healthy');
    const pool = healthy.length > 0 ? healthy : states.filter((t) => t.state !== 'draining');
    if (pool.length === 0) {
      return answer(res, 503, `no registered target in ${group.TargetGroupName}`);
    }
    const target = pool[roundRobin++ % pool.length]!;
    const port = options.hostPort(target.id, target.port);
    if (port === undefined) return answer(res, 502, `no task answers at ${target.id}:${target.port}`);
    if (group.ProtocolVersion === 'GRPC' || group.ProtocolVersion === 'HTTP2') proxyHttp2(req, res, port);
    else proxyHttp1(req, res, port, listenerPort);
  }

  const servers: Array<{ role: keyof AwsListenerPorts; server: Http2SecureServer }> = [];
  const listeners = {} as AwsListenerPorts;
  for (const role of ['web', 'grpc', 'stagingWeb', 'stagingGrpc'] as const) {
    const server = createSecureServer({ key: options.certificate.key, cert: options.certificate.cert, allowHTTP1: true });
    server.on('secureConnection', (socket: Socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    listeners[role] = port;
    server.on('request', (req: Request, res: Response) => {
      handle(port, req, res).catch((error: unknown) => answer(res, 502, `the load balancer stand-in failed: ${(error as Error).message}`));
    });
    servers.push({ role, server });
  }

  return {
    listeners,
    async stop() {
      for (const socket of sockets) socket.destroy();
      for (const session of sessions.values()) session.destroy();
      agent.destroy();
      await Promise.all(servers.map(({ server }) => new Promise((resolve) => server.close(resolve))));
    },
  };
}
