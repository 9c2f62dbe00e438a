/**
 * Test fixture (not exported by the barrel): a fake-gcs-server process on 127.0.0.1, the Cloud
 * Storage emulator the GCP release tests run the real @google-cloud/storage client against.
 * `bash scripts/fake-gcs.sh` builds it once (.ci/run does).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Bucket } from '@google-cloud/storage';
import { releaseBucket } from './storage/release-bucket.js';

// Google's auth library otherwise probes the GCE metadata server (169.254.169.254) to find
// credentials; tests talk to 127.0.0.1 only.
process.env.METADATA_SERVER_DETECTION = 'none';
const SCRIPT = fileURLToPath(new URL('../../scripts/fake-gcs.sh', import.meta.url));
export const FAKE_GCS_PROJECT = 'tk-test-project';

export interface FakeGcs {
  apiEndpoint: string;
  /** A new, empty bucket (a stack of its own); `name` gives it the name a stack's program gives it. */
  newBucket(name?: string): Promise<Bucket>;
  stop(): Promise<void>;
}

function fakeGcsBinary(): string {
  const found = spawnSync('bash', [SCRIPT, '--no-build'], { encoding: 'utf8' });
  const path = found.stdout.trim();
  if (found.status !== 0 || path === '') {
    throw new Error(`fake-gcs-server is not built: run \`bash scripts/fake-gcs.sh\` once (it builds it from the Go module proxy into a cache folder)`);
  }
  return path;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export async function startFakeGcs(): Promise<FakeGcs> {
  const binary = fakeGcsBinary();
  const port = await freePort();
  const apiEndpoint = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(binary, ['-host', '127.0.0.1', '-port', String(port), '-scheme', 'http', '-backend', 'memory', '-external-url', apiEndpoint, '-log-level', 'error'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`fake-gcs-server exited with ${child.exitCode}: ${stderr.trim()}`);
    try {
      const response = await fetch(`${apiEndpoint}/storage/v1/b?project=${FAKE_GCS_PROJECT}`);
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGTERM');
      throw new Error(`fake-gcs-server did not answer on ${apiEndpoint} within 15 s: ${stderr.trim()}`);
    }
    await sleep(50);
  }
  return {
    apiEndpoint,
    async newBucket(name?: string) {
      const bucket = releaseBucket({ project: FAKE_GCS_PROJECT, bucket: name ?? `tk-test-${randomBytes(4).toString('hex')}`, apiEndpoint });
      await bucket.create();
      return bucket;
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
