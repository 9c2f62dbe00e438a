import * as grpc from '@grpc/grpc-js';
import { ExecutionsClient, JobsClient, RevisionsClient, ServicesClient } from '@google-cloud/run';

/**
 * The Cloud Run Admin API v2 clients a release uses. Without an endpoint they reach
 * run.googleapis.com with Application Default Credentials; tests point them at the local
 * emulator (cloud-run-emulator.ts) over plaintext gRPC on 127.0.0.1.
 */
export interface CloudRunEndpoint {
  host: string;
  port: number;
}

export interface CloudRunClients {
  services: ServicesClient;
  revisions: RevisionsClient;
  jobs: JobsClient;
  executions: ExecutionsClient;
  close(): Promise<void>;
}

export function cloudRunClients(endpoint?: CloudRunEndpoint): CloudRunClients {
  const options = endpoint ? { apiEndpoint: endpoint.host, port: endpoint.port, sslCreds: grpc.credentials.createInsecure() } : {};
  const clients = { services: new ServicesClient(options), revisions: new RevisionsClient(options), jobs: new JobsClient(options), executions: new ExecutionsClient(options) };
  return { ...clients, close: async () => void (await Promise.all(Object.values(clients).map((client) => client.close()))) };
}
