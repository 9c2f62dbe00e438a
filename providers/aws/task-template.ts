import { APP_PORTS, type AppService, type Slot } from '../../components/release/plan.js';
import { AWS_SECRETS } from './names.js';

/**
 * The template task definition of one slot and service, as the stack declares it (infrastructure.ts)
 * and a release copies it (slots/task-definitions.ts). Plain data, apart from Pulumi, so the
 * tests declare the same on the emulator.
 */

/** Fargate size of every task (a TrapperKeeper service is one Node process). */
export const TASK_SIZE = { cpu: '512', memory: '1024' } as const;
/** Fargate waits at most 120 s after SIGTERM. */
export const FARGATE_MAX_STOP_TIMEOUT_SECONDS = 120;
/** Seconds ECS waits after SIGTERM beyond the app's own drain (TK_SHUTDOWN_TIMEOUT_MS), so it exits on its own. */
export const STOP_GRACE_SECONDS = 5;
/** The app's subcommand per service (`trapperkeeper sensor-api`). */
export const SERVICE_COMMANDS: Record<AppService, string> = { 'sensor-api': 'sensor-api', 'web-ui': 'web-ui' };

export function stopTimeoutSeconds(drainTimeoutMs: number): number {
  return Math.min(FARGATE_MAX_STOP_TIMEOUT_SECONDS, Math.ceil(drainTimeoutMs / 1000) + STOP_GRACE_SECONDS);
}

export interface AppContainerInput {
  slot: Slot;
  service: AppService;
  /** `<registry>/<repository>:<tag>` */
  image: string;
  /** The plain environment (nothing secret), sorted by name in the definition. */
  environment: Record<string, string>;
  /** ARNs of the Secrets Manager secrets, by AWS_SECRETS name. */
  secretArns: Record<keyof typeof AWS_SECRETS, string>;
  logGroup: string;
  region: string;
  drainTimeoutMs: number;
}

/** The container of a template task definition (ECS's JSON shape). */
export function appContainerDefinition(input: AppContainerInput) {
  const grpc = input.service === 'sensor-api';
  return {
    name: input.service,
    image: input.image,
    essential: true,
    command: [SERVICE_COMMANDS[input.service]],
    portMappings: grpc
      ? [
          { containerPort: APP_PORTS.sensorApiGrpc, protocol: 'tcp' },
          { containerPort: APP_PORTS.sensorApiHttp, protocol: 'tcp' },
        ]
      : [{ containerPort: APP_PORTS.webUi, protocol: 'tcp' }],
    environment: Object.entries(input.environment)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([name, value]) => ({ name, value })),
    // Secrets Manager references: ECS reads the values at start; the definition holds only ARNs.
    secrets: [
      { name: AWS_SECRETS['hmac-secret'], valueFrom: input.secretArns['hmac-secret'] },
      { name: AWS_SECRETS['database-password'], valueFrom: input.secretArns['database-password'] },
    ],
    stopTimeout: stopTimeoutSeconds(input.drainTimeoutMs),
    logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': input.logGroup, 'awslogs-region': input.region, 'awslogs-stream-prefix': input.slot } },
  };
}
