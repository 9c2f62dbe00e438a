#!/usr/bin/env node
// The one PR comment of .github/workflows/pr.yml: the pending migrations (their SQL and
// destructive warnings, from `tkctl migrations pending --markdown`) and the `pulumi preview` of
// each affected stack. The comment starts with a hidden marker; a later run finds the comment by
// it and edits it, so a PR has one such comment however often it is pushed to.
//
//   node .github/scripts/pr-comment.mjs --pr <number> [--migrations <file.md>] [--previews <dir>]
//                                       [--note <text>] [--body-out <file>] [--dry-run]
//
// <dir> holds <stack>.txt (the preview's output) and <stack>.exit (its exit code) per stack.
// --dry-run only writes the body (to --body-out, else stdout). Environment: GITHUB_TOKEN,
// GITHUB_REPOSITORY (owner/name), GITHUB_API_URL (default https://api.github.com); the token is
// sent in a header only, never printed.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

export const MARKER = '<!-- trapperkeeper-deploy:pr-preview -->';
/** GitHub refuses comment bodies over 65,536 characters. */
const MAX_BODY = 65_000;

export function composeBody({ migrations, previews, note }) {
  const parts = [MARKER, '## TrapperKeeper Deploy: what this PR would change', ''];
  if (note) parts.push(note, '');
  parts.push(migrations?.trim() || '### Pending migrations\n\nThe migration analysis did not run (see the workflow log).', '');
  parts.push('### `pulumi preview`', '');
  if (previews.length === 0) parts.push('No long-lived stack is affected by this change.');
  const fixed = parts.join('\n').length + previews.length * 300;
  const budget = Math.max(2_000, Math.floor((MAX_BODY - fixed) / Math.max(1, previews.length)));
  for (const { stack, output, exit } of previews) {
    const status = exit === 0 ? 'succeeded' : `**failed** (exit ${exit})`;
    const text = clip(stripAnsi(output).trim(), budget);
    const fence = '`'.repeat(Math.max(3, ...[...text.matchAll(/`+/g)].map((m) => m[0].length + 1)));
    parts.push(`<details${exit === 0 ? '' : ' open'}><summary>stack <code>${stack}</code>: preview ${status}</summary>`, '', `${fence}text`, text, fence, '', '</details>', '');
  }
  return `${parts.join('\n').trimEnd()}\n`;
}

/** Keeps the head (the diff) and the tail (pulumi's summary) of a long preview. */
function clip(text, budget) {
  if (text.length <= budget) return text;
  const tail = text.slice(-Math.floor(budget / 4));
  const head = text.slice(0, budget - tail.length - 60);
  return `${head}\n... ${text.length - head.length - tail.length} characters cut (the whole preview is in the workflow log) ...\n${tail}`;
}

function stripAnsi(text) {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\u001b\[[0-9;]*[A-Za-z]/g, '');
}

export function readPreviews(dir) {
  if (!dir || !existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => name.endsWith('.txt'))
    .sort()
    .map((name) => {
      const stack = name.slice(0, -'.txt'.length);
      const exitFile = join(dir, `${stack}.exit`);
      return { stack, output: readFileSync(join(dir, name), 'utf8'), exit: existsSync(exitFile) ? Number(readFileSync(exitFile, 'utf8').trim()) : 1 };
    });
}

/** Creates the marked comment, or edits the one an earlier run created. Returns what it did. */
export async function upsertComment({ apiUrl, repository, token, pr, body }) {
  const headers = {
    accept: 'application/vnd.github+json',
    authorization: `Bearer ${token}`,
    'content-type': 'application/json',
    'x-github-api-version': '2022-11-28',
  };
  const request = async (method, url, payload) => {
    const response = await fetch(url, { method, headers, ...(payload ? { body: JSON.stringify(payload) } : {}) });
    if (!response.ok) throw new Error(`${method} ${url}: HTTP ${response.status} ${(await response.text()).slice(0, 300)}`);
    return response;
  };
  let url = `${apiUrl}/repos/${repository}/issues/${pr}/comments?per_page=100`;
  let existing;
  while (url && !existing) {
    const response = await request('GET', url);
    const comments = await response.json();
    existing = comments.find((comment) => typeof comment.body === 'string' && comment.body.startsWith(MARKER));
    url = /<([^>]+)>;\s*rel="next"/.exec(response.headers.get('link') ?? '')?.[1];
  }
  if (existing) {
    await request('PATCH', `${apiUrl}/repos/${repository}/issues/comments/${existing.id}`, { body });
    return { action: 'updated', id: existing.id };
  }
  const created = await (await request('POST', `${apiUrl}/repos/${repository}/issues/${pr}/comments`, { body })).json();
  return { action: 'created', id: created.id };
}

async function main() {
  const { values } = parseArgs({
    options: {
      pr: { type: 'string' },
      migrations: { type: 'string' },
      previews: { type: 'string' },
      note: { type: 'string' },
      'body-out': { type: 'string' },
      'dry-run': { type: 'boolean' },
    },
  });
  const migrations = values.migrations && existsSync(values.migrations) ? readFileSync(values.migrations, 'utf8') : undefined;
  const body = composeBody({ migrations, previews: readPreviews(values.previews), note: values.note });
  if (values['body-out']) writeFileSync(values['body-out'], body);
  if (values['dry-run']) {
    if (!values['body-out']) process.stdout.write(body);
    return;
  }
  const { GITHUB_TOKEN: token, GITHUB_REPOSITORY: repository } = process.env;
  if (!/^[1-9]\d*$/.test(values.pr ?? '')) throw new Error('--pr <number> is required');
  if (!token || !repository) throw new Error('GITHUB_TOKEN and GITHUB_REPOSITORY must be set (the workflow passes them)');
  const apiUrl = (process.env.GITHUB_API_URL || 'https://api.github.com').replace(/\/$/, '');
  const { action, id } = await upsertComment({ apiUrl, repository, token, pr: values.pr, body });
  process.stdout.write(`pr-comment: ${action} comment ${id} on #${values.pr}\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error) => {
    process.stderr.write(`pr-comment: ${error.message}\n`);
    process.exit(1);
  });
}
