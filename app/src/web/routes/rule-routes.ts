import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  createRule, deleteRule, editRule, getRule, listRules, RuleNameTakenError, RuleNotFoundError, setRuleState,
} from '../../db/rules.js';
import type { Rule, RuleState } from '../../rules/model.js';
import { errorPage } from '../pages/error.js';
import { ruleDetailPage } from '../pages/rule-detail.js';
import { ruleEditorPage, type EditorMode } from '../pages/rule-editor.js';
import { rulesListPage } from '../pages/rules-list.js';
import {
  applyIntent, emptyRuleForm, readIntent, readRuleForm, RuleFormTooLargeError, ruleToForm, type RuleFormState,
} from '../rule-form.js';
import { validateRuleForm } from '../rule-form-validation.js';
import { flash, pageContext, redirectAfterPost, sendPage, type WebContext } from '../web-context.js';

type IdParams = { Params: { id: string } };

async function findRuleOr404(context: WebContext, request: FastifyRequest<IdParams>, reply: FastifyReply): Promise<Rule | undefined> {
  const rule = await getRule(context.db, context.tenantId, request.params.id);
  if (!rule) {
    sendPage(reply, errorPage(404, 'Rule not found', 'This rule does not exist, or it was deleted or replaced by an edit.'), 404);
  }
  return rule;
}

/** Handles a POST of the editor: a structural change re-renders the form; save stores and redirects. */
async function submitEditor(
  context: WebContext,
  request: FastifyRequest,
  reply: FastifyReply,
  mode: EditorMode,
): Promise<FastifyReply> {
  const body = (request.body ?? {}) as Record<string, unknown>;
  const intent = readIntent(body);
  let posted: RuleFormState;
  try {
    posted = readRuleForm(body);
  } catch (error) {
    if (!(error instanceof RuleFormTooLargeError)) throw error;
    return sendPage(reply, errorPage(413, 'Rule too large for the editor', error.message), 413);
  }
  const form = applyIntent(posted, intent);
  if (intent.kind !== 'save') return sendPage(reply, ruleEditorPage(pageContext(context, request), mode, form, []));

  const result = validateRuleForm(form);
  if ('issues' in result) {
    return sendPage(reply, ruleEditorPage(pageContext(context, request), mode, form, result.issues), 422);
  }
  try {
    if (mode.kind === 'create') {
      const created = await createRule(context.db, context.tenantId, result.rule);
      flash(context, request, { kind: 'success', message: `Created rule “${created.name}” (${created.state.replace('RULE_STATE_', '').toLowerCase()}).` });
      return redirectAfterPost(reply, `/rules/${encodeURIComponent(created.ruleId)}`);
    }
    const saved = await editRule(context.db, context.tenantId, mode.rule.ruleId, result.rule);
    flash(context, request, {
      kind: 'success',
      message: `Saved “${saved.name}” as a new version with id ${saved.ruleId}; the previous version ${mode.rule.ruleId} was retired.`,
    });
    return redirectAfterPost(reply, `/rules/${encodeURIComponent(saved.ruleId)}`);
  } catch (error) {
    if (error instanceof RuleNameTakenError) {
      const issues = [{ field: 'name', message: 'another rule already has this name; choose another' }];
      return sendPage(reply, ruleEditorPage(pageContext(context, request), mode, form, issues), 422);
    }
    if (error instanceof RuleNotFoundError) {
      flash(context, request, { kind: 'error', message: 'That rule was deleted or replaced meanwhile; nothing was saved.' });
      return redirectAfterPost(reply, '/rules');
    }
    throw error;
  }
}

const STATE_CHANGES: { path: 'activate' | 'disable'; state: RuleState; verb: string }[] = [
  { path: 'activate', state: 'RULE_STATE_ACTIVE', verb: 'Activated' },
  { path: 'disable', state: 'RULE_STATE_DISABLED', verb: 'Disabled' },
];

export function registerRuleRoutes(app: FastifyInstance, context: WebContext): void {
  app.get('/', async (_request, reply) => reply.redirect('/rules', 303));

  app.get('/rules', async (request, reply) => {
    const rules = await listRules(context.db, context.tenantId);
    return sendPage(reply, rulesListPage(pageContext(context, request), rules));
  });

  app.get('/rules/new', async (request, reply) =>
    sendPage(reply, ruleEditorPage(pageContext(context, request), { kind: 'create' }, emptyRuleForm(), [])));

  app.post('/rules/new', async (request, reply) => submitEditor(context, request, reply, { kind: 'create' }));

  app.get<IdParams>('/rules/:id', async (request, reply) => {
    const rule = await findRuleOr404(context, request, reply);
    if (rule) return sendPage(reply, ruleDetailPage(pageContext(context, request), rule));
  });

  app.get<IdParams>('/rules/:id/edit', async (request, reply) => {
    const rule = await findRuleOr404(context, request, reply);
    if (rule) return sendPage(reply, ruleEditorPage(pageContext(context, request), { kind: 'edit', rule }, ruleToForm(rule), []));
  });

  app.post<IdParams>('/rules/:id/edit', async (request, reply) => {
    const rule = await findRuleOr404(context, request, reply);
    if (rule) return submitEditor(context, request, reply, { kind: 'edit', rule });
  });

  for (const change of STATE_CHANGES) {
    app.post<IdParams>(`/rules/:id/${change.path}`, async (request, reply) => {
      try {
        const rule = await setRuleState(context.db, context.tenantId, request.params.id, change.state);
        flash(context, request, { kind: 'success', message: `${change.verb} rule “${rule.name}”.` });
      } catch (error) {
        if (!(error instanceof RuleNotFoundError)) throw error;
        flash(context, request, { kind: 'error', message: 'That rule no longer exists; nothing was changed.' });
      }
      return redirectAfterPost(reply, '/rules');
    });
  }

  app.post<IdParams>('/rules/:id/delete', async (request, reply) => {
    const rule = await getRule(context.db, context.tenantId, request.params.id);
    try {
      await deleteRule(context.db, context.tenantId, request.params.id);
      flash(context, request, { kind: 'success', message: `Deleted rule “${rule?.name ?? request.params.id}”.` });
    } catch (error) {
      if (!(error instanceof RuleNotFoundError)) throw error;
      flash(context, request, { kind: 'error', message: 'That rule no longer exists; nothing was changed.' });
    }
    return redirectAfterPost(reply, '/rules');
  });
}
