import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect as tlsConnect } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { connectSensorClient } from '../../../app/test/support/sensor-client.js';
import { readProxyState } from '../../../providers/docker/proxy/index.js';
import type { ReleaseImage } from '../../../providers/docker/spec.js';
import { startLoad } from '../../support/load.js';
import { TEST_IMAGES, requireDocker, testEngine, uniqueName } from '../../support/images.js';
import { createReleaseFixture, releaseId, type ReleaseFixture } from '../../support/release-fixture.js';

/**
 * A stack with a domain, on a real Docker engine: Caddy's internal CA signs the certificates
 * (`docker.tls internal`), clients trust the root exported from the Caddy container and ask for
 * the names by SNI while dialling 127.0.0.1, so nothing needs the names to resolve and nothing
 * leaves this machine.
 */
const DOMAIN = 'tk.localhost';
const GRPC_DOMAIN = 'grpc.tk.localhost';
/** Where Caddy keeps its local CA's root (its /data volume). */
const ROOT_PATH = '/data/caddy/pki/authorities/local/root.crt';

interface PeerCertificate {
  fingerprint256: string;
  serialNumber: string;
  subjectAltName: string;
  issuer: string;
}

interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function answerOf(response: import('node:http').IncomingMessage, resolve: (answer: HttpAnswer) => void): void {
  let body = '';
  response.setEncoding('utf8');
  response.on('data', (chunk: string) => (body += chunk));
  response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }));
}

/** The PEM root of Caddy's local CA, exported from the Caddy container's /data volume. */
function exportRoot(fixture: ReleaseFixture): Promise<string> {
  return testEngine.run(['exec', fixture.infra.containers.caddy, 'cat', ROOT_PATH]);
}

/** The certificate Caddy presents for `servername` on a published port, verified against `trust` (null: the public CAs). */
function peerCertificate(hostPort: number, servername: string, trust: string | null): Promise<PeerCertificate> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port: hostPort, servername, ...(trust ? { ca: trust } : {}), ALPNProtocols: ['h2', 'http/1.1'] }, () => {
      const cert = socket.getPeerCertificate();
      socket.end();
      resolve({ fingerprint256: cert.fingerprint256, serialNumber: cert.serialNumber, subjectAltName: cert.subjectaltname ?? '', issuer: String(cert.issuer.CN ?? '') });
    });
    socket.on('error', reject);
  });
}

/** GET over HTTPS from 127.0.0.1:`hostPort`, asking for DOMAIN by SNI and Host, trusting `trust` (null: the public CAs). */
function httpsGet(hostPort: number, path: string, trust: string | null): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      { host: '127.0.0.1', port: hostPort, path, servername: DOMAIN, ...(trust ? { ca: trust } : {}), headers: { host: DOMAIN }, agent: false },
      (response) => answerOf(response, resolve),
    );
    req.on('error', reject);
    req.end();
  });
}

function plainGet(hostPort: number, path: string): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: hostPort, path, headers: { host: DOMAIN }, agent: false }, (response) => answerOf(response, resolve));
    req.on('error', reject);
    req.end();
  });
}

/** The release a /readyz answer reports. */
function releaseOf(answer: HttpAnswer | undefined): string | undefined {
  try {
    return (JSON.parse(answer?.body ?? '') as { release?: string }).release;
  } catch {
    return undefined;
  }
}

/** Retries `get` until it answers 200 (a container that just started), at most 10 s. */
async function once200(get: () => Promise<HttpAnswer>): Promise<HttpAnswer | undefined> {
  let answer: HttpAnswer | undefined;
  for (let i = 0; i < 100 && answer?.status !== 200; i++) {
    answer = await get().catch(() => undefined);
    if (answer?.status !== 200) await sleep(100);
  }
  return answer;
}

describe('HTTPS with a domain on a real Docker engine (Caddy\'s internal CA)', { timeout: 900_000 }, () => {
  let fixture: ReleaseFixture;
  let v1: ReleaseImage;
  let v2: ReleaseImage;
  let v3: ReleaseImage;
  let ca: string;
  const port = (name: 'http' | 'https' | 'grpc') => fixture.infra.ports[name];

  async function certificates(): Promise<{ web: PeerCertificate; grpc: PeerCertificate }> {
    return { web: await peerCertificate(port('https'), DOMAIN, ca), grpc: await peerCertificate(port('grpc'), GRPC_DOMAIN, ca) };
  }

  function release(image: ReleaseImage) {
    return fixture.release(fixture.specFor(image));
  }

  before(async () => {
    await requireDocker();
    fixture = await createReleaseFixture(uniqueName('tkhttps'), {
      docker: { images: { postgres: TEST_IMAGES.postgres, caddy: TEST_IMAGES.caddy }, domain: DOMAIN, grpcDomain: GRPC_DOMAIN, tls: 'internal' },
    });
    v1 = await fixture.releaseImage(releaseId('0.1.0', 1));
    v2 = await fixture.releaseImage(releaseId('0.2.0', 2));
    v3 = await fixture.releaseImage(releaseId('0.3.0', 3));
  });

  after(async () => {
    await fixture?.tearDown();
  });

  it('releases v1: verified over TLS, the web UI over HTTPS with HSTS, plain HTTP redirected, gRPC over TLS', async (t) => {
    const spec = fixture.specFor(v1);
    assert.deepEqual(spec.proxy.tls, { domain: DOMAIN, grpcDomain: GRPC_DOMAIN, issuer: 'internal', httpsPort: 443 });
    const started = performance.now();
    // The release's public verification trusts the root it reads from the Caddy container itself.
    const outcome = await release(v1);
    t.diagnostic(`release v1 ${Math.round(performance.now() - started)} ms: ${JSON.stringify(outcome.phases)}`);
    assert.equal(outcome.liveRelease, spec.image.releaseId);

    ca = await exportRoot(fixture);
    const root = new X509Certificate(ca);
    assert.match(root.subject, /Caddy Local Authority/);

    const page = await httpsGet(port('https'), '/login', ca);
    assert.equal(page.status, 200);
    assert.match(page.body, /<form/i);
    // One HSTS header, from Caddy (the web UI sends its own behind a TLS proxy: replaced, not doubled).
    assert.equal(page.headers['strict-transport-security'], 'max-age=31536000');
    assert.equal(releaseOf(await httpsGet(port('https'), '/readyz', ca)), spec.image.releaseId);

    const { web, grpc } = await certificates();
    assert.equal(web.subjectAltName, `DNS:${DOMAIN}`);
    assert.equal(grpc.subjectAltName, `DNS:${GRPC_DOMAIN}`);
    assert.match(web.issuer, /Caddy Local Authority/);

    // Nothing trusts the local CA by default: without its root the certificate is refused.
    await assert.rejects(httpsGet(port('https'), '/login', null), (error: NodeJS.ErrnoException) => /UNABLE_TO_VERIFY|SELF_SIGNED|unable to (get|verify)/i.test(`${error.code} ${error.message}`));
    // A certificate for another name than the one asked for is refused too.
    await assert.rejects(peerCertificate(port('https'), 'other.localhost', ca));

    const redirect = await plainGet(port('http'), '/login?next=%2Frules');
    assert.equal(redirect.status, 308);
    assert.equal(redirect.headers.location, `https://${DOMAIN}/login?next=%2Frules`);

    const sensor = connectSensorClient(port('grpc'), '127.0.0.1', { ca, serverName: GRPC_DOMAIN });
    const h2c = connectSensorClient(port('grpc'));
    try {
      assert.equal(await sensor.healthCheck('', { deadlineMs: 5000 }), 'SERVING');
      // Cleartext HTTP/2 on the gRPC port no longer works: sensors must use TLS.
      await assert.rejects(h2c.healthCheck('', { deadlineMs: 3000 }));
    } finally {
      sensor.close();
      h2c.close();
    }
    assert.equal((await readProxyState(testEngine, spec)).configCurrent, true, 'Caddy serves the config it booted with');
  });

  it('releases v2 under HTTPS and gRPC-over-TLS load with zero failed requests, without re-issuing a certificate', async (t) => {
    const before = await certificates();
    const apiKey = (await fixture.runApp(['api-keys', 'create', '--name', 'load'])).trim();
    const spec = fixture.specFor(v2);
    const load = startLoad(
      { httpUrl: spec.proxy.publicHttpUrl, grpcAddress: spec.proxy.publicGrpcAddress, apiKey, tls: { ca, httpServerName: DOMAIN, grpcServerName: GRPC_DOMAIN } },
      { ratePerSecond: 120 },
    );
    let report: Awaited<ReturnType<typeof load.stop>>;
    const started = performance.now();
    try {
      await sleep(1000);
      const outcome = await release(v2);
      t.diagnostic(`release v2 under load ${Math.round(performance.now() - started)} ms: ${JSON.stringify(outcome.phases)}`);
      await sleep(1000);
    } finally {
      report = await load.stop();
    }
    t.diagnostic(`${report.http.ok} HTTPS and ${report.grpc.ok} gRPC-over-TLS requests at ${report.rate.toFixed(0)} req/s`);
    assert.deepEqual(report.http.errors, []);
    assert.deepEqual(report.grpc.errors, []);
    assert.equal(report.http.failed + report.grpc.failed, 0);
    assert.ok(report.rate >= 100, `load ran at ${report.rate.toFixed(0)} req/s`);
    assert.ok(report.grpc.ok > 200, `${report.grpc.ok} gRPC calls`);
    assert.deepEqual(report.releasesSeen, [fixture.specFor(v1).image.releaseId, spec.image.releaseId]);
    assert.deepEqual(await certificates(), before, 'the same certificates after a release');
  });

  it('keeps its CA and certificates when the Caddy container is replaced, and releases and rolls back over TLS', async (t) => {
    const before = await certificates();
    await fixture.infra.replaceContainer('caddy');
    // The new container resumes the routing from its /config volume: v2 serves again.
    assert.equal(releaseOf(await once200(() => httpsGet(port('https'), '/readyz', ca))), fixture.specFor(v2).image.releaseId);
    assert.equal(await exportRoot(fixture), ca, 'the same root: clients that trust it keep working');
    assert.deepEqual(await certificates(), before, 'the same certificates (fingerprint and serial) from the kept /data volume');
    assert.doesNotMatch(await logsOf(fixture.infra.containers.caddy), /obtaining certificate|certificate obtained/, 'the new container issued nothing');

    const started = performance.now();
    const outcome = await release(v3);
    t.diagnostic(`release v3 after the replacement ${Math.round(performance.now() - started)} ms`);
    assert.equal(outcome.liveRelease, fixture.specFor(v3).image.releaseId);
    // The warm rollback to the parked v2, whose plan still names the ports from before the replacement.
    const back = await fixture.release(fixture.specFor(v3), { rollback: {} });
    assert.equal(back.liveRelease, fixture.specFor(v2).image.releaseId);
    assert.deepEqual(await certificates(), before, 'still the same certificates after a release and a rollback');
  });

  async function logsOf(container: string): Promise<string> {
    const result = await testEngine.exec(['logs', container]);
    return `${result.stdout}${result.stderr}`;
  }
});

describe('a stack without a domain gets one (pulumi config set --path docker.domain, pulumi up)', { timeout: 600_000 }, () => {
  let fixture: ReleaseFixture;
  let v1: ReleaseImage;
  let v2: ReleaseImage;

  before(async () => {
    await requireDocker();
    fixture = await createReleaseFixture(uniqueName('tkdomain'));
    v1 = await fixture.releaseImage(releaseId('0.1.0', 1));
    v2 = await fixture.releaseImage(releaseId('0.2.0', 2));
  });

  after(async () => {
    await fixture?.tearDown();
  });

  it('serves plain HTTP, keeps serving through the new Caddy container, then HTTPS from the next release on, and a rollback to the plain release keeps HTTPS', async (t) => {
    const plain = fixture.specFor(v1);
    assert.equal(plain.proxy.tls, undefined);
    await fixture.release(plain);
    assert.equal(releaseOf(await plainGet(fixture.infra.ports.http, '/readyz')), plain.image.releaseId);

    // `pulumi up` replaces the Caddy container (443 is published now); the new one resumes the
    // config it last loaded, from its /config volume, so v1 keeps being served over HTTP.
    await fixture.reconfigureDocker({ domain: DOMAIN, tls: 'internal' });
    assert.equal(releaseOf(await once200(() => plainGet(fixture.infra.ports.http, '/readyz'))), plain.image.releaseId);

    // The release loads the config with TLS, and verifies over it.
    const secure = fixture.specFor(v2);
    assert.equal(secure.proxy.tls?.domain, DOMAIN);
    const started = performance.now();
    await fixture.release(secure);
    t.diagnostic(`first release with the domain ${Math.round(performance.now() - started)} ms`);
    const ca = await exportRoot(fixture);
    assert.equal(releaseOf(await httpsGet(fixture.infra.ports.https, '/readyz', ca)), secure.image.releaseId);
    const redirect = await plainGet(fixture.infra.ports.http, '/readyz');
    assert.equal(redirect.status, 308);
    assert.equal(redirect.headers.location, `https://${DOMAIN}/readyz`);

    // The parked v1 was planned without a domain; rolling back to it keeps the stack's HTTPS.
    const back = await fixture.release(secure, { rollback: {} });
    assert.equal(back.liveRelease, plain.image.releaseId);
    assert.equal(releaseOf(await httpsGet(fixture.infra.ports.https, '/readyz', ca)), plain.image.releaseId);
    assert.equal((await plainGet(fixture.infra.ports.http, '/readyz')).status, 308);
    assert.equal((await readProxyState(testEngine, secure)).configCurrent, true, 'Caddy still serves the TLS config');
  });
});
