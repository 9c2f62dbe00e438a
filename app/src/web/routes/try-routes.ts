import type { FastifyInstance } from 'fastify';
import { getRule } from '../../db/rules.js';
import { evaluateRule } from '../../rules/evaluate.js';
import { errorPage } from '../pages/error.js';
import { tryRulePage, type TryOutcome } from '../pages/try-rule.js';
import { pageContext, sendPage, type WebContext } from '../web-context.js';

/** The largest payload a sensor may report (reference limits), so the same cap applies here. */
export const TRY_PAYLOAD_MAX_BYTES = 1024 * 1024;

/**
 * The try form's body limit: the payload URL-encoded (at most 3 bytes per byte, %XX) on top of
 * the usual form limit, so the largest payload a sensor may report can always be tried.
 */
export function tryBodyLimitBytes(maxBodyBytes: number): number {
  return 3 * TRY_PAYLOAD_MAX_BYTES + maxBodyBytes;
}

const EXAMPLE_PAYLOAD = '{\n  "user": { "id": 42, "country": "DE" },\n  "items": [ { "sku": "A-1", "price": 19.5 } ]\n}';

function readPayload(text: string): { payload: unknown } | { message: string } {
  if (Buffer.byteLength(text) > TRY_PAYLOAD_MAX_BYTES) {
    return { message: `it is larger than ${TRY_PAYLOAD_MAX_BYTES} bytes, the most a sensor may report` };
  }
  try {
    return { payload: JSON.parse(text) as unknown };
  } catch (error) {
    return { message: `not valid JSON (${(error as Error).message})` };
  }
}

/**
 * "Try this rule": evaluates a saved rule against a pasted payload and shows the trace. The
 * POST changes nothing, so it answers with the result page directly instead of redirecting.
 */
export function registerTryRoutes(app: FastifyInstance, context: WebContext): void {
  app.get<{ Params: { id: string } }>('/rules/:id/try', async (request, reply) => {
    const rule = await getRule(context.db, context.tenantId, request.params.id);
    if (!rule) return sendPage(reply, errorPage(404, 'Rule not found', 'This rule does not exist, or it was deleted or replaced by an edit.'), 404);
    return sendPage(reply, tryRulePage(pageContext(context, request), rule, EXAMPLE_PAYLOAD));
  });

  app.post<{ Params: { id: string } }>('/rules/:id/try', { bodyLimit: tryBodyLimitBytes(context.maxBodyBytes) }, async (request, reply) => {
    const rule = await getRule(context.db, context.tenantId, request.params.id);
    if (!rule) return sendPage(reply, errorPage(404, 'Rule not found', 'This rule does not exist, or it was deleted or replaced by an edit.'), 404);
    const raw = (request.body as Record<string, unknown> | undefined)?.payload;
    const text = typeof raw === 'string' ? raw : '';
    const read = readPayload(text);
    const outcome: TryOutcome = 'message' in read
      ? { kind: 'bad-payload', message: read.message }
      : { kind: 'evaluated', evaluation: evaluateRule({ orGroups: rule.orGroups, sampleRate: 1 }, read.payload) };
    return sendPage(reply, tryRulePage(pageContext(context, request), rule, text, outcome), outcome.kind === 'bad-payload' ? 422 : 200);
  });
}
