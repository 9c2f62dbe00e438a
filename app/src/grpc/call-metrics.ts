import { ServerInterceptingCall, status, type ServerInterceptor } from '@grpc/grpc-js';
import type { Metrics } from '../metrics/registry.js';
import { statusName } from './call-error.js';

/** The metric label for a method path: `/trapperkeeper.sensor.v1.SensorAPI/SyncRules` -> `SyncRules`. */
function methodLabel(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1) || path;
}

/**
 * Counts and times every call by method and final status code: the handlers' answers, and
 * also the calls grpc-js ends on its own before or around a handler (a message over the size
 * limit, an undecodable message, a deadline). grpc-js sends those statuses straight from the
 * call it hands this interceptor, so its `sendStatus` is wrapped there; the first status
 * sent is the one the client sees. A call that ends with no status (the client went away)
 * counts as CANCELLED.
 */
export function callMetricsInterceptor(metrics: Metrics): ServerInterceptor {
  return (methodDescriptor, call) => {
    const startedAt = process.hrtime.bigint();
    const method = methodLabel(methodDescriptor.path);
    let recorded = false;
    const record = (code: status) => {
      if (recorded) return;
      recorded = true;
      const labels = { method, code: statusName(code) };
      metrics.grpcRequests.inc(labels);
      metrics.grpcDuration.observe(labels, Number(process.hrtime.bigint() - startedAt) / 1e9);
    };
    const sendStatus = call.sendStatus.bind(call);
    call.sendStatus = (sent: Parameters<typeof sendStatus>[0]) => {
      record(sent.code ?? status.UNKNOWN);
      sendStatus(sent);
    };
    return new ServerInterceptingCall(call, {
      start: (next) => next({ onCancel: () => record(status.CANCELLED) }),
    });
  };
}
