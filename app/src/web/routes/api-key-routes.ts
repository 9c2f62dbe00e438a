import type { FastifyInstance } from 'fastify';
import { createApiKey, listApiKeys, revokeApiKey } from '../../db/api-keys.js';
import { UserError } from '../../errors.js';
import { apiKeysPage } from '../pages/api-keys.js';
import { flash, pageContext, redirectAfterPost, sendPage, type WebContext } from '../web-context.js';

export function registerApiKeyRoutes(app: FastifyInstance, context: WebContext): void {
  app.get('/api-keys', async (request, reply) => {
    const keys = await listApiKeys(context.db, context.tenantId);
    return sendPage(reply, apiKeysPage(pageContext(context, request), keys, { name: '' }));
  });

  app.post('/api-keys', async (request, reply) => {
    const raw = (request.body as Record<string, unknown> | undefined)?.name;
    const name = typeof raw === 'string' ? raw : '';
    try {
      const { key, record } = await createApiKey(context.db, context.tenantId, name, context.primarySecret);
      // The plaintext key travels to the next GET through the server-side flash, never a URL.
      flash(context, request, { kind: 'new-api-key', message: `Created API key “${record.name}”.`, name: record.name, key });
      context.logger.info({ apiKeyId: record.id }, 'web-ui: API key created');
      return redirectAfterPost(reply, '/api-keys');
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      const keys = await listApiKeys(context.db, context.tenantId);
      return sendPage(reply, apiKeysPage(pageContext(context, request), keys, { name, error: `${error.message}: ${error.fix ?? ''}` }), 422);
    }
  });

  app.post<{ Params: { id: string } }>('/api-keys/:id/revoke', async (request, reply) => {
    const found = await revokeApiKey(context.db, context.tenantId, request.params.id);
    if (found) context.logger.info({ apiKeyId: request.params.id }, 'web-ui: API key revoked');
    flash(context, request, found
      ? { kind: 'success', message: 'Revoked the API key; sensors using it are refused from now on.' }
      : { kind: 'error', message: 'No such API key; nothing was changed.' });
    return redirectAfterPost(reply, '/api-keys');
  });
}
