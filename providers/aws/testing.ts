/**
 * Test fixtures of the AWS target (not exported by the barrel): a valid aws stack config to vary,
 * with canary secrets whose appearance anywhere plain is a leak.
 */
import { Writable } from 'node:stream';
import { createDeployEvents, type DeployEvents } from '../../components/events/deploy-events.js';
import type { AwsStackConfig } from '../config.js';
import { parseStackConfig } from '../config.js';

export const AWS_CANARY = {
  postgresPassword: 'canary-aws-pg-password-3Rt8Wk',
  hmacSecret: `abcdef01abcdef01abcdef01abcdef01:${Buffer.from('canary-aws-hmac-secret-0123456789ab').toString('base64')}`,
} as const;
export const AWS_CANARY_ENV = { TK_POSTGRES_PASSWORD: AWS_CANARY.postgresPassword, TK_HMAC_SECRET: AWS_CANARY.hmacSecret };

/** The smallest aws section that deploys: region, domain, certificate. */
export const MINIMAL_AWS_SECTION = {
  region: 'eu-west-1',
  domain: 'tk.example.com',
  certificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789',
} as const;

/** `pulumi config` as the language host hands it over: nested maps as JSON text. */
export function awsPulumiConfig(values: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(Object.entries(values).map(([key, value]) => [`trapperkeeper:${key}`, typeof value === 'string' ? value : JSON.stringify(value)]));
}

/** A validated aws stack config: `aws` over the minimal section, `values` over the defaults. */
export function awsConfig(stack: string, aws: Record<string, unknown> = {}, values: Record<string, unknown> = {}): AwsStackConfig {
  const config = parseStackConfig({
    stack,
    config: awsPulumiConfig({ provider: 'aws', aws: { ...MINIMAL_AWS_SECTION, ...aws }, ...values }),
    processEnv: AWS_CANARY_ENV,
    envFile: { path: `.env.${stack}`, values: {} },
  });
  if (config.provider !== 'aws') throw new Error('expected an aws stack');
  return config;
}

/** Deploy events captured as parsed JSON lines. */
export function capturedEvents(): { events: DeployEvents; lines: Array<Record<string, unknown>>; names(): string[] } {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      callback();
    },
  });
  return { events: createDeployEvents({ format: 'json', destination, jsonFile: '' }), lines, names: () => lines.map((line) => String(line.event)) };
}
