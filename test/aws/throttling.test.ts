import assert from 'node:assert/strict';
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import { after, before, beforeEach, describe, it } from 'node:test';
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { lockHolderForThisProcess } from '../../components/lock/lock-holder.js';
import { awsClients, type AwsClients } from '../../providers/aws/clients.js';
import { LOCK_KEY, acquireDynamoLock, readDynamoLock, type DynamoLockTarget } from '../../providers/aws/lock/dynamodb-lock.js';
import { startMoto, useFakeAwsCredentials, type Moto } from './moto.js';

const TABLE = 'tk-test-deploy-lock';
const IMAGE = { releaseId: '1.0.0-aaaaaaa-20261201T100000Z-b00000001', version: '1.0.0' };

/**
 * A proxy in front of moto that answers DynamoDB calls of one operation with AWS's throttling
 * error while `throttle` says so, and forwards everything else: what AWS does under a burst.
 */
class ThrottlingProxy {
  throttled = 0;
  seen: Array<{ operation: string; at: number }> = [];
  throttle: (operation: string, attempt: number) => boolean = () => false;
  private server: Server | undefined;
  url = '';

  constructor(private readonly upstream: string) {}

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const operation = String(req.headers['x-amz-target'] ?? '').split('.').pop() ?? '';
        const attempt = this.seen.filter((s) => s.operation === operation).length + 1;
        this.seen.push({ operation, at: Date.now() });
        if (this.throttle(operation, attempt)) {
          this.throttled++;
          res.writeHead(400, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': `throttled-${attempt}` });
          res.end(JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#ThrottlingException', message: 'Rate of requests exceeds the allowed throughput.' }));
          return;
        }
        const target = new URL(req.url ?? '/', this.upstream);
        const forwarded = httpRequest(target, { method: req.method, headers: { ...req.headers, host: target.host } }, (upstream: IncomingMessage) => {
          res.writeHead(upstream.statusCode ?? 502, upstream.headers);
          upstream.pipe(res);
        });
        forwarded.on('error', (error) => {
          res.writeHead(502);
          res.end(String(error));
        });
        forwarded.end(body);
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server!.address() as { port: number }).port}`;
  }

  async stop(): Promise<void> {
    await new Promise((resolve) => this.server?.close(resolve));
  }
}

describe('AWS calls under throttling: retried, and a lasting throttle fails the step (moto behind a throttling proxy)', { timeout: 120_000 }, () => {
  let moto: Moto;
  let proxy: ThrottlingProxy;
  let clients: AwsClients;
  let target: DynamoLockTarget;

  before(async () => {
    useFakeAwsCredentials();
    moto = await startMoto();
    proxy = new ThrottlingProxy(moto.url);
    await proxy.start();
    clients = awsClients({ region: 'eu-west-1', endpoint: proxy.url });
    target = { client: clients.dynamodb, region: 'eu-west-1', table: TABLE, stack: 'test' };
  });
  after(async () => {
    clients?.destroy();
    await proxy?.stop();
    await moto?.stop();
  });
  beforeEach(async () => {
    await moto.reset();
    proxy.throttle = () => false;
    proxy.seen = [];
    proxy.throttled = 0;
    await clients.dynamodb.send(
      new CreateTableCommand({ TableName: TABLE, KeySchema: [{ AttributeName: LOCK_KEY.name, KeyType: 'HASH' }], AttributeDefinitions: [{ AttributeName: LOCK_KEY.name, AttributeType: 'S' }], BillingMode: 'PAY_PER_REQUEST' }),
    );
  });

  it('takes the lock when the first two conditional writes are throttled: the SDK retries them (with jittered backoff)', async () => {
    proxy.throttle = (operation, attempt) => operation === 'PutItem' && attempt <= 2;
    const held = await acquireDynamoLock(target, lockHolderForThisProcess(IMAGE), { waitMs: 0 });
    assert.equal(proxy.throttled, 2);
    const puts = proxy.seen.filter((s) => s.operation === 'PutItem').map((s) => s.at);
    assert.equal(puts.length, 3, 'two throttled attempts, then the one that wrote');
    assert.equal((await readDynamoLock(target)).state, 'held');
    await held.release();
  });

  it('fails the step when throttling outlasts the attempts, and leaves no lock behind', async () => {
    proxy.throttle = (operation) => operation === 'PutItem';
    await assert.rejects(acquireDynamoLock(target, lockHolderForThisProcess(IMAGE), { waitMs: 0 }), (error: Error) => error.name === 'ThrottlingException');
    assert.equal(proxy.seen.filter((s) => s.operation === 'PutItem').length, 3, 'the SDK tries three times (AwsClientOptions.maxAttempts)');
    assert.equal((await readDynamoLock(target)).state, 'free');
  });
});
