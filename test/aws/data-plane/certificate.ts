/**
 * The certificate the load balancer stand-in presents on its listeners: self-signed for
 * 127.0.0.1 (the "domain" of the test stack), made with openssl for one test file. Its PEM is
 * also the one root the gate's probes trust there (AlbGateOptions.ca), as they trust the public
 * CAs for an ALB's ACM certificate.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCertificate {
  cert: string;
  key: string;
}

export function selfSignedCertificate(address = '127.0.0.1'): TestCertificate {
  const dir = mkdtempSync(join(tmpdir(), 'tk-aws-alb-cert-'));
  try {
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', `/CN=${address}`,
        '-addext', `subjectAltName=IP:${address}`, '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    return { cert: readFileSync(join(dir, 'cert.pem'), 'utf8'), key: readFileSync(join(dir, 'key.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
