import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECRClient } from '@aws-sdk/client-ecr';
import { ECSClient } from '@aws-sdk/client-ecs';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { S3Client } from '@aws-sdk/client-s3';

/** The AWS API clients the release steps use, for one region. */
export interface AwsClients {
  dynamodb: DynamoDBClient;
  ecr: ECRClient;
  ecs: ECSClient;
  /** CloudWatch Logs: what one-off tasks printed. */
  logs: CloudWatchLogsClient;
  elbv2: ElasticLoadBalancingV2Client;
  s3: S3Client;
  destroy(): void;
}

export interface AwsClientOptions {
  region: string;
  /**
   * Another endpoint for every service (an emulator such as moto). Unset: AWS itself, or the
   * SDK's own AWS_ENDPOINT_URL[_<SERVICE>] variables. Credentials come from the SDK's default chain.
   */
  endpoint?: string;
  /** Attempts per call (throttling and 5xx are retried with backoff and jitter). @default 3 */
  maxAttempts?: number;
}

export function awsClients(options: AwsClientOptions): AwsClients {
  const common = {
    region: options.region,
    maxAttempts: options.maxAttempts ?? 3,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
  };
  const dynamodb = new DynamoDBClient(common);
  const ecr = new ECRClient(common);
  const ecs = new ECSClient(common);
  const logs = new CloudWatchLogsClient(common);
  const elbv2 = new ElasticLoadBalancingV2Client(common);
  // An emulator serves buckets by path, not by virtual host names.
  const s3 = new S3Client({ ...common, ...(options.endpoint ? { forcePathStyle: true } : {}) });
  return {
    dynamodb,
    ecr,
    ecs,
    logs,
    elbv2,
    s3,
    destroy() {
      dynamodb.destroy();
      ecr.destroy();
      ecs.destroy();
      logs.destroy();
      elbv2.destroy();
      s3.destroy();
    },
  };
}
