import type { GcpServiceSpec } from '../infrastructure-spec.js';
import { STARTUP_PROBE_TIMING } from './revision-template.js';

/**
 * The first revision of each Cloud Run service, the one `pulumi up` creates it with. Cloud Run
 * gives a new service's first revision all the traffic and the create waits until that revision
 * is ready, so it must start on its own (before any migration ran, the app refuses to start) and
 * must not serve users a release that never passed the gate. It runs the release image's Node
 * with a small server that answers every request with 503 and says no release is live yet: no
 * database, no secrets, one instance at most. The first release creates its gated revision and
 * moves the traffic to it (slots/, routing/); the placeholder never carries a slot tag or a
 * release plan, so it is never a slot, a rollback target or a "live release".
 */

/** `<service>-placeholder` (at most 49 + 12 characters: within Cloud Run's 63). */
export function placeholderRevisionName(serviceName: string): string {
  return `${serviceName}-${PLACEHOLDER_SUFFIX}`;
}
export const PLACEHOLDER_SUFFIX = 'placeholder';

/**
 * The placeholder's server, run as `node -e <script> <h2c|http1> <service>` (node:http and
 * node:http2 only, so it needs nothing of the image but Node). Cloud Run sets PORT to the
 * container port. On h2c, a gRPC call gets a trailers-only UNAVAILABLE carrying the text (what
 * a sensor's client logs and retries on; printable ASCII without `%`, so no percent-encoding);
 * any other request, on either protocol, a 503.
 */
export const PLACEHOLDER_SERVER = [
  "'use strict';",
  "const http = require('node:http');",
  "const http2 = require('node:http2');",
  'const [protocol, service] = process.argv.slice(-2);',
  "const text = 'No release of ' + service + ' is live yet: this is the placeholder revision the service was created with. The first release (pulumi up) replaces it once it passed its health gate.';",
  "const plain = { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', 'retry-after': '60' };",
  'const server = protocol === "h2c"',
  '  ? http2.createServer().on("stream", (stream, headers) => {',
  "      stream.on('error', () => undefined);",
  "      if (String(headers['content-type'] || '').startsWith('application/grpc')) return stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '14', 'grpc-message': text }, { endStream: true });",
  "      stream.respond({ ':status': 503, ...plain });",
  "      stream.end(text + '\\n');",
  '    })',
  "  : http.createServer((request, response) => response.writeHead(503, plain).end(text + '\\n'));",
  "server.listen(Number(process.env.PORT), () => console.log('placeholder of ' + service + ' listening on ' + process.env.PORT + ' (' + protocol + '): every request gets 503, no release is live yet'));",
  "process.on('SIGTERM', () => server.close(() => process.exit(0)));",
].join('\n');

/** The placeholder's revision template, in the shape GcpTarget declares a service's template (Pulumi's cloudrunv2 ServiceTemplate). */
export interface PlaceholderTemplate {
  revision: string;
  scaling: { minInstanceCount: number; maxInstanceCount: number };
  containers: Array<{
    commands: string[];
    args: string[];
    image: string;
    ports: { name: GcpServiceSpec['portName']; containerPort: number };
    startupProbe: { tcpSocket: { port: number }; periodSeconds: number; failureThreshold: number };
  }>;
}

/**
 * Pure: the template a service is created with, for `image` (the release image, already pushed:
 * its Node runs the server). The port keeps the service's name (h2c stays HTTP/2 end to end) and
 * number; the probe is TCP, as the placeholder has neither /readyz nor gRPC health.
 */
export function placeholderTemplate(service: GcpServiceSpec, image: string): PlaceholderTemplate {
  return {
    revision: placeholderRevisionName(service.name),
    scaling: { minInstanceCount: 0, maxInstanceCount: 1 },
    containers: [
      {
        image,
        commands: ['node'],
        args: ['-e', PLACEHOLDER_SERVER, service.portName, service.name],
        ports: { name: service.portName, containerPort: service.containerPort },
        startupProbe: { tcpSocket: { port: service.containerPort }, ...STARTUP_PROBE_TIMING },
      },
    ],
  };
}
