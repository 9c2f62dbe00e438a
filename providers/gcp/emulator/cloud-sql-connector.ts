/**
 * Test fixture: what Cloud Run's Cloud SQL connection (a `cloudSqlInstance` volume) gives a
 * container, a unix socket per instance at `<mount>/<connection name>/.s.PGSQL.5432`, here
 * forwarding to a PostgreSQL on 127.0.0.1 (the real connector forwards to the instance over an
 * IAM-authorized tunnel). The folder is bind-mounted where the template mounts the volume.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface CloudSqlConnector {
  /** The host folder to mount where the template mounts the volume. */
  folder: string;
  /** Makes the socket of `connectionName` (project:region:instance) exist. */
  ensure(connectionName: string): Promise<void>;
  close(): Promise<void>;
}

export function startCloudSqlConnector(target: { host: string; port: number }): CloudSqlConnector {
  const folder = mkdtempSync(join(tmpdir(), 'tk-cloudsql-'));
  chmodSync(folder, 0o755);
  const servers = new Map<string, Server>();
  return {
    folder,
    async ensure(connectionName) {
      if (servers.has(connectionName)) return;
      const dir = join(folder, connectionName);
      mkdirSync(dir, { recursive: true });
      chmodSync(dir, 0o755);
      const path = join(dir, '.s.PGSQL.5432');
      const server = createServer((socket) => {
        const upstream = createConnection({ host: target.host, port: target.port });
        socket.pipe(upstream).pipe(socket);
        const end = () => {
          socket.destroy();
          upstream.destroy();
        };
        socket.on('error', end);
        upstream.on('error', end);
      });
      servers.set(connectionName, server);
      await new Promise<void>((resolve, reject) => server.listen(path, resolve).once('error', reject));
      // The app runs as an unprivileged user in its container.
      chmodSync(path, 0o777);
    },
    async close() {
      await Promise.all([...servers.values()].map((server) => new Promise((resolve) => server.close(resolve))));
      rmSync(folder, { recursive: true, force: true });
    },
  };
}
