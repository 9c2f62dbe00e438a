import type { FastifyInstance } from 'fastify';
import { currentSchemaVersion, migrationStatus } from '../../db/migrator.js';
import { statusPage, type StatusFacts } from '../pages/status.js';
import { pageContext, sendPage, type WebContext } from '../web-context.js';

async function gatherFacts(context: WebContext): Promise<StatusFacts> {
  const { db } = context;
  const reachable = await db.ping(1000).then(() => true, () => false);
  const schemaVersion = reachable ? await currentSchemaVersion(db).catch(() => null) : null;
  // The migration files may not ship beside every deployment; then "unknown" is the honest answer.
  const pending = reachable
    ? await migrationStatus(db).then(
      (statuses) => statuses.filter((entry) => entry.status !== 'applied').map((entry) => `${entry.id} (${entry.status})`),
      () => null,
    )
    : null;
  return {
    build: context.build,
    schemaVersion,
    pendingMigrations: pending,
    dialect: db.dialect,
    redactedUrl: db.redactedUrl,
    databaseReachable: reachable,
  };
}

export function registerStatusRoutes(app: FastifyInstance, context: WebContext): void {
  app.get('/status', async (request, reply) =>
    sendPage(reply, statusPage(pageContext(context, request), await gatherFacts(context))));
}
