/**
 * The load balancer's health checks, for the data plane stand-in. moto stores the targets a
 * RegisterTargets names, but reports every one `healthy` whether anything answers there or not
 * (checked with moto 5.2.5), so it cannot tell a slot that serves from one that does not. This
 * checker does what the ALB does for each target the ECS stand-in registered: it polls the
 * target group's health check (path, port, protocol and matcher, read from moto: HTTP GET
 * /readyz expecting 200 for web-ui, gRPC grpc.health.v1.Health/Check expecting status 0 for
 * sensor-api) against the task's container, and counts its healthy and unhealthy thresholds.
 * It polls every `intervalMs` (200 ms) instead of the group's interval (at least 5 s on AWS),
 * so tests take seconds. What it saw answers DescribeTargetHealth (targetHealthDescriptions),
 * with ALB's states and reasons: initial, healthy, unhealthy, draining.
 */
import { request as httpRequest } from 'node:http';
import { connect as http2Connect } from 'node:http2';
import {
  DescribeTargetGroupsCommand,
  type ElasticLoadBalancingV2Client,
  type TargetGroup,
  type TargetHealth,
  type TargetHealthDescription,
} from '@aws-sdk/client-elastic-load-balancing-v2';

/** A registered target: a task's address (awsvpc: its own IP) and container port, in one target group. */
export interface TargetKey {
  targetGroupArn: string;
  id: string;
  port: number;
}

const keyOf = (k: TargetKey) => `${k.targetGroupArn}|${k.id}|${k.port}`;

type ProbeResult = { ok: true } | { ok: false; reason: 'Target.ResponseCodeMismatch' | 'Target.Timeout' | 'Target.FailedHealthChecks'; description: string };

interface Watched {
  key: TargetKey;
  health: TargetHealth;
  successes: number;
  failures: number;
  stopped: boolean;
}

/** Whether `code` matches an ALB matcher (`200`, `200,202`, `200-299`). */
export function matches(matcher: string, code: number): boolean {
  return matcher.split(',').some((part) => {
    const [low, high] = part.split('-').map((n) => Number(n.trim()));
    return high === undefined ? code === low : code >= (low ?? 0) && code <= high;
  });
}

function httpProbe(port: number, path: string, matcher: string, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method: 'GET', agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      const code = res.statusCode ?? 0;
      resolve(matches(matcher, code) ? { ok: true } : { ok: false, reason: 'Target.ResponseCodeMismatch', description: `Health checks failed with these codes: [${code}]` });
    });
    req.on('timeout', () => {
      req.destroy();
      resolve({ ok: false, reason: 'Target.Timeout', description: 'Request timed out' });
    });
    req.on('error', () => resolve({ ok: false, reason: 'Target.FailedHealthChecks', description: 'Health checks failed' }));
    req.end();
  });
}

/** A gRPC call of the health check path with an empty message, over cleartext HTTP/2, as the ALB sends it to a GRPC target group. */
function grpcProbe(port: number, path: string, matcher: string, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const session = http2Connect(`http://127.0.0.1:${port}`);
    let settled = false;
    const done = (result: ProbeResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      session.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => done({ ok: false, reason: 'Target.Timeout', description: 'Request timed out' }), timeoutMs);
    session.on('error', () => done({ ok: false, reason: 'Target.FailedHealthChecks', description: 'Health checks failed' }));
    const stream = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers' });
    const judge = (headers: Record<string, unknown>) => {
      const status = headers['grpc-status'];
      if (status === undefined) return false;
      const code = Number(status);
      done(matches(matcher, code) ? { ok: true } : { ok: false, reason: 'Target.ResponseCodeMismatch', description: `Health checks failed with these codes: [${code}]` });
      return true;
    };
    stream.on('response', (headers) => {
      const status = Number(headers[':status']);
      if (judge(headers)) return;
      if (status !== 200) done({ ok: false, reason: 'Target.ResponseCodeMismatch', description: `Health checks failed with these codes: [HTTP ${status}]` });
    });
    stream.on('trailers', (trailers) => {
      if (!judge(trailers)) done({ ok: false, reason: 'Target.FailedHealthChecks', description: 'no grpc-status' });
    });
    stream.on('error', () => done({ ok: false, reason: 'Target.FailedHealthChecks', description: 'Health checks failed' }));
    stream.resume();
    stream.end(Buffer.alloc(5));
  });
}

export interface TargetHealthChecker {
  /** Starts checking a target the ECS stand-in registered; `hostPort` maps a container port of its task to 127.0.0.1. */
  watch(key: TargetKey, hostPort: (containerPort: number) => number | undefined): void;
  /** A deregistered target: `draining` for the group's deregistration delay, then gone. */
  drain(key: TargetKey, delayMs: number): void;
  state(key: TargetKey): TargetHealth | undefined;
  /** DescribeTargetHealth's answer: moto's registered targets with what the checks saw, plus the draining ones. */
  describe(targetGroupArn: string, registered: readonly TargetHealthDescription[]): TargetHealthDescription[];
  stop(): void;
}

export function targetHealthChecker(elbv2: ElasticLoadBalancingV2Client, options: { intervalMs?: number } = {}): TargetHealthChecker {
  const intervalMs = options.intervalMs ?? 200;
  const groups = new Map<string, Promise<TargetGroup>>();
  const watched = new Map<string, Watched>();
  const draining = new Map<string, { key: TargetKey; timer: NodeJS.Timeout }>();
  let stopped = false;

  const groupOf = (arn: string) => {
    let found = groups.get(arn);
    if (!found) {
      found = elbv2.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [arn] })).then((r) => r.TargetGroups![0]!);
      groups.set(arn, found);
    }
    return found;
  };

  async function loop(entry: Watched, hostPort: (containerPort: number) => number | undefined) {
    const group = await groupOf(entry.key.targetGroupArn);
    const checkPort = group.HealthCheckPort && group.HealthCheckPort !== 'traffic-port' ? Number(group.HealthCheckPort) : entry.key.port;
    const grpc = group.ProtocolVersion === 'GRPC';
    const path = group.HealthCheckPath ?? (grpc ? '/AWS.ALB/healthcheck' : '/');
    const matcher = (grpc ? group.Matcher?.GrpcCode : group.Matcher?.HttpCode) ?? (grpc ? '12' : '200');
    const timeoutMs = Math.min((group.HealthCheckTimeoutSeconds ?? 5) * 1000, 2_000);
    while (!entry.stopped && !stopped) {
      const port = hostPort(checkPort);
      const result: ProbeResult = port === undefined
        ? { ok: false, reason: 'Target.FailedHealthChecks', description: `nothing listens on container port ${checkPort}` }
        : await (grpc ? grpcProbe : httpProbe)(port, path, matcher, timeoutMs);
      if (entry.stopped) return;
      if (result.ok) {
        entry.failures = 0;
        entry.successes += 1;
        if (entry.successes >= (group.HealthyThresholdCount ?? 5)) entry.health = { State: 'healthy' };
      } else {
        entry.successes = 0;
        entry.failures += 1;
        if (entry.failures >= (group.UnhealthyThresholdCount ?? 2)) entry.health = { State: 'unhealthy', Reason: result.reason, Description: result.description };
      }
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  }

  return {
    watch(key, hostPort) {
      const entry: Watched = { key, health: { State: 'initial', Reason: 'Elb.RegistrationInProgress', Description: 'Target registration is in progress' }, successes: 0, failures: 0, stopped: false };
      watched.set(keyOf(key), entry);
      void loop(entry, hostPort).catch((error: unknown) => {
        entry.health = { State: 'unavailable', Reason: 'Elb.InternalError', Description: `the stand-in's checker failed: ${(error as Error).message}` };
      });
    },
    drain(key, delayMs) {
      const entry = watched.get(keyOf(key));
      if (entry) entry.stopped = true;
      watched.delete(keyOf(key));
      const timer = setTimeout(() => draining.delete(keyOf(key)), delayMs);
      draining.set(keyOf(key), { key, timer });
    },
    state(key) {
      if (draining.has(keyOf(key))) return { State: 'draining', Reason: 'Target.DeregistrationInProgress', Description: 'Target deregistration is in progress' };
      return watched.get(keyOf(key))?.health;
    },
    describe(targetGroupArn, registered) {
      const answer = registered.map((d): TargetHealthDescription => {
        const key = { targetGroupArn, id: d.Target?.Id ?? '', port: d.Target?.Port ?? 0 };
        const health = watched.get(keyOf(key))?.health ?? {
          State: 'unhealthy',
          Reason: 'Target.FailedHealthChecks',
          Description: 'no task of the ECS stand-in has this address',
        };
        return { ...d, TargetHealth: { ...health } };
      });
      for (const { key } of draining.values()) {
        if (key.targetGroupArn === targetGroupArn) {
          answer.push({ Target: { Id: key.id, Port: key.port }, HealthCheckPort: 'traffic-port', TargetHealth: { State: 'draining', Reason: 'Target.DeregistrationInProgress', Description: 'Target deregistration is in progress' } });
        }
      }
      return answer;
    },
    stop() {
      stopped = true;
      for (const entry of watched.values()) entry.stopped = true;
      for (const { timer } of draining.values()) clearTimeout(timer);
    },
  };
}
