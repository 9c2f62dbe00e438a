'use strict';
// The health gate's probe, run as `node -e <this file>` in a container on the stack's network,
// so it reaches Caddy by container name whether the Docker engine is local or behind ssh://.
// Protocol (network-probe-protocol.ts): one JSON request per stdin line, one JSON reply per
// stdout line, `{"ready":true}` first; it exits when stdin closes (the gate is over, or the
// docker CLI that attached it died). Needs Node 20 and @grpc/grpc-js, resolved from the working
// directory (the app image's /opt/trapperkeeper). It never reads the environment: no secrets.

const readline = require('node:readline');
const grpc = require('@grpc/grpc-js');

/** Enough of any /readyz body; the gate quotes 300 characters of it. */
const MAX_BODY_CHARS = 4096;
const HEALTH_CHECK_METHOD = '/grpc.health.v1.Health/Check';
/** grpc.health.v1.HealthCheckResponse.ServingStatus, by number. */
const SERVING_STATUS = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'];
/** Polling reconnects fast: a gate must not sit in grpc-js's default backoff of up to 2 minutes. */
const CHANNEL_OPTIONS = { 'grpc.initial_reconnect_backoff_ms': 200, 'grpc.max_reconnect_backoff_ms': 1000 };

function varint(value) {
  const bytes = [];
  while (value > 0x7f) {
    bytes.push((value & 0x7f) | 0x80);
    value >>>= 7;
  }
  bytes.push(value);
  return Buffer.from(bytes);
}

function readVarint(buffer, offset) {
  let value = 0;
  let shift = 0;
  for (;;) {
    if (offset >= buffer.length) throw new Error('truncated varint');
    const byte = buffer[offset++];
    value += (byte & 0x7f) * 2 ** shift;
    if (byte < 0x80) return [value, offset];
    shift += 7;
  }
}

// The two health messages are tiny, so they are encoded by hand rather than loaded from a .proto.
/** HealthCheckRequest { string service = 1; } */
function encodeHealthRequest(service) {
  const bytes = Buffer.from(service, 'utf8');
  return bytes.length === 0 ? Buffer.alloc(0) : Buffer.concat([Buffer.from([0x0a]), varint(bytes.length), bytes]);
}

/** HealthCheckResponse { ServingStatus status = 1; } -> the status name (UNKNOWN when absent). */
function decodeHealthStatus(buffer) {
  let status = 0;
  let offset = 0;
  while (offset < buffer.length) {
    let key;
    [key, offset] = readVarint(buffer, offset);
    const wireType = key & 7;
    if (wireType === 0) {
      let value;
      [value, offset] = readVarint(buffer, offset);
      if (key >>> 3 === 1) status = value;
    } else if (wireType === 2) {
      let length;
      [length, offset] = readVarint(buffer, offset);
      offset += length;
    } else if (wireType === 1) offset += 8;
    else if (wireType === 5) offset += 4;
    else throw new Error(`unexpected protobuf wire type ${wireType}`);
  }
  return SERVING_STATUS[status] ?? `UNKNOWN_${status}`;
}

async function probeHttp(request) {
  try {
    const response = await fetch(request.url, { signal: AbortSignal.timeout(request.timeoutMs), headers: { accept: 'application/json' } });
    const body = await response.text();
    return { http: { status: response.status, body: body.slice(0, MAX_BODY_CHARS) } };
  } catch (error) {
    const cause = error && error.cause;
    return { http: { unreachable: String((cause && (cause.code || cause.message)) || (error && error.message) || error) } };
  }
}

/** One channel per address for the whole gate, as a sensor holds it. */
const clients = new Map();

function clientFor(address) {
  let client = clients.get(address);
  if (!client) {
    client = new grpc.Client(address, grpc.credentials.createInsecure(), CHANNEL_OPTIONS);
    clients.set(address, client);
  }
  return client;
}

function probeGrpcHealth(request) {
  return new Promise((resolve) => {
    clientFor(request.address).makeUnaryRequest(
      HEALTH_CHECK_METHOD,
      encodeHealthRequest,
      decodeHealthStatus,
      request.service || '',
      new grpc.Metadata(),
      { deadline: Date.now() + request.timeoutMs },
      (error, status) => {
        if (error) resolve({ grpc: { code: error.code, details: error.details || error.message } });
        else resolve({ grpc: { code: grpc.status.OK, details: '', status } });
      },
    );
  });
}

function probe(request) {
  if (request.kind === 'http') return probeHttp(request);
  if (request.kind === 'grpc-health') return probeGrpcHealth(request);
  return Promise.resolve({ failed: `unknown probe kind ${JSON.stringify(request.kind)}` });
}

function reply(message) {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

readline
  .createInterface({ input: process.stdin })
  .on('line', (line) => {
    let request;
    try {
      request = JSON.parse(line);
    } catch {
      process.stderr.write(`network probe: ignoring a line that is not JSON: ${line.slice(0, 200)}\n`);
      return;
    }
    probe(request).then(
      (result) => reply({ id: request.id, ...result }),
      (error) => reply({ id: request.id, failed: String((error && error.message) || error) }),
    );
  })
  .on('close', () => {
    for (const client of clients.values()) client.close();
    process.exit(0);
  });

reply({ ready: true });
