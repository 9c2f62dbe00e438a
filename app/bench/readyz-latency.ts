import { Agent, request } from 'node:http';
import type { CleanupStack } from './cleanup.js';
import { timeSequential } from './load-loop.js';
import { summarizeLatencies, type LatencySummary } from './stats.js';

function getReadyz(agent: Agent, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/readyz', agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        if (res.statusCode !== 200 || !body.includes('"ready"')) {
          reject(new Error(`/readyz answered ${String(res.statusCode)}: ${body.slice(0, 200)}`));
        } else {
          resolve();
        }
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Sequential GET /readyz over one keep-alive connection, as a load balancer's probe would. */
export async function measureReadyzLatency(
  opsPort: number,
  requests: number,
  warmup: number,
  cleanup: CleanupStack,
): Promise<LatencySummary> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const close = cleanup.add('close the /readyz HTTP agent', () => agent.destroy());
  try {
    return summarizeLatencies(await timeSequential(warmup, requests, () => getReadyz(agent, opsPort)));
  } finally {
    await close();
  }
}
