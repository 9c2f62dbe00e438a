import * as grpc from '@grpc/grpc-js';
import { ArtifactRegistryClient } from '@google-cloud/artifact-registry';
import type { CloudRunEndpoint } from '../run/clients.js';

/**
 * The Artifact Registry client a release uses: artifactregistry.googleapis.com with Application
 * Default Credentials, or (tests) the local server of emulator/artifact-registry.ts over
 * plaintext gRPC on 127.0.0.1.
 */
export function artifactRegistryClient(endpoint?: CloudRunEndpoint): ArtifactRegistryClient {
  return new ArtifactRegistryClient(endpoint ? { apiEndpoint: endpoint.host, port: endpoint.port, sslCreds: grpc.credentials.createInsecure() } : {});
}
