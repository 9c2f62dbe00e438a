import { z } from 'zod';
import type { GrpcHealthAnswer, HttpAnswer } from '../../../components/health-gate/checks.js';

/**
 * The line protocol between the gate (this process) and network-probe-server.cjs, which runs in
 * a container on the stack's network: one JSON request per line on the container's stdin, one
 * JSON reply per line on its stdout, `{"ready":true}` first. Requests carry no secrets.
 */
export type ProbeRequest =
  | { kind: 'http'; url: string; timeoutMs: number }
  | { kind: 'grpc-health'; address: string; service: string; timeoutMs: number };

export type ProbeResult = { http: HttpAnswer } | { grpc: GrpcHealthAnswer } | { failed: string };

export type ProbeReply = { ready: true } | ({ id: number } & ProbeResult);

/** The line written to the probe's stdin for request number `id`. */
export function encodeProbeRequest(id: number, request: ProbeRequest): string {
  return `${JSON.stringify({ id, ...request })}\n`;
}

const httpAnswerSchema = z.union([
  z.object({ status: z.number().int(), body: z.string() }),
  z.object({ unreachable: z.string() }),
]);

const grpcAnswerSchema = z.object({ code: z.number().int(), details: z.string(), status: z.string().optional() });

const replySchema = z.union([
  z.object({ ready: z.literal(true) }),
  z.object({ id: z.number().int(), http: httpAnswerSchema }),
  z.object({ id: z.number().int(), grpc: grpcAnswerSchema }),
  z.object({ id: z.number().int(), failed: z.string() }),
]);

/** A line of the probe's stdout, or undefined when it is not a reply (a stray log line). */
export function parseProbeReply(line: string): ProbeReply | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  const parsed = replySchema.safeParse(value);
  if (!parsed.success) return undefined;
  const reply = parsed.data;
  if ('ready' in reply) return { ready: true };
  if ('http' in reply) return { id: reply.id, http: reply.http };
  if ('grpc' in reply) {
    const { code, details, status } = reply.grpc;
    return { id: reply.id, grpc: status === undefined ? { code, details } : { code, details, status } };
  }
  return { id: reply.id, failed: reply.failed };
}
