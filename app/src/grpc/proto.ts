import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { UserError } from '../errors.js';

export const SENSOR_API_SERVICE = 'trapperkeeper.sensor.v1.SensorAPI';
const SERVICE_PROTO = 'trapperkeeper/sensor/v1/sensor_api.proto';

/**
 * The loader options every side uses, so the server and test clients see the same shapes:
 * lowerCamelCase fields, enums by name, 64-bit integers as numbers, unset scalars filled
 * with their defaults, and a virtual field naming which member of each oneof is set.
 */
export const PROTO_LOADER_OPTIONS: protoLoader.Options = {
  keepCase: false,
  enums: String,
  longs: Number,
  defaults: true,
  oneofs: true,
};

/**
 * The folder holding `trapperkeeper/sensor/v1/*.proto`: `TK_PROTO_DIR` when set (the
 * container image), else the first `proto/` folder found walking up from this module,
 * which works both from source (src/grpc/) and from a build (dist/...).
 */
export function resolveProtoDir(env: NodeJS.ProcessEnv = process.env): string {
  const override = env.TK_PROTO_DIR;
  if (override) {
    if (!existsSync(join(override, SERVICE_PROTO))) {
      throw new UserError(
        `TK_PROTO_DIR=${override} does not contain ${SERVICE_PROTO}`,
        'point TK_PROTO_DIR at the folder that holds trapperkeeper/sensor/v1/, or unset it',
      );
    }
    return resolve(override);
  }
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'proto');
    if (existsSync(join(candidate, SERVICE_PROTO))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new UserError(
    `could not find ${SERVICE_PROTO} in any proto/ folder above ${fileURLToPath(import.meta.url)}`,
    'set TK_PROTO_DIR to the folder that holds trapperkeeper/sensor/v1/',
  );
}

export interface SensorApiDefinition {
  packageDefinition: protoLoader.PackageDefinition;
  service: grpc.ServiceDefinition;
}

/** Loads the sensor API's service definition from the .proto files (never from generated code). */
export function loadSensorApiDefinition(protoDir: string = resolveProtoDir()): SensorApiDefinition {
  const packageDefinition = protoLoader.loadSync(join(protoDir, SERVICE_PROTO), {
    ...PROTO_LOADER_OPTIONS,
    includeDirs: [protoDir],
  });
  const service = packageDefinition[SENSOR_API_SERVICE];
  if (!service || !('SyncRules' in service)) {
    throw new UserError(`${SERVICE_PROTO} does not define ${SENSOR_API_SERVICE}`, 'restore the proto files from the release');
  }
  return { packageDefinition, service: service as grpc.ServiceDefinition };
}
