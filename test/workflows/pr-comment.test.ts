/**
 * .github/scripts/pr-comment.mjs, run as the workflow runs it, against a GitHub API stand-in on
 * 127.0.0.1 that keeps comments the way GitHub does (paginated, with other people's comments):
 * the first run creates the comment, every later run edits that one, never a second.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';

const REPO = resolve(import.meta.dirname, '../..');
const SCRIPT = join(REPO, '.github/scripts/pr-comment.mjs');
const TOKEN = 'ghs_canary_token_never_printed_0123456789';

interface Comment {
  id: number;
  body: string;
  user: { login: string };
}

/** Issue comments of repo acme/tk, PR 7, two per page, as GitHub serves them. */
function githubStandIn() {
  const comments: Comment[] = [
    { id: 1, body: 'LGTM', user: { login: 'alice' } },
    { id: 2, body: `> ${'<!-- trapperkeeper-deploy:pr-preview -->'} quoted by a person`, user: { login: 'bob' } },
    { id: 3, body: 'one more', user: { login: 'carol' } },
  ];
  const requests: string[] = [];
  let nextId = 100;
  const body = (req: IncomingMessage) =>
    new Promise<{ body: string }>((done) => {
      let text = '';
      req.on('data', (chunk) => (text += chunk)).on('end', () => done(JSON.parse(text)));
    });
  const server = createServer(async (req, res) => {
    requests.push(`${req.method} ${req.url}`);
    if (req.headers.authorization !== `Bearer ${TOKEN}`) {
      res.writeHead(401).end('{"message":"Bad credentials"}');
      return;
    }
    const url = new URL(req.url!, 'http://x');
    const address = server.address() as AddressInfo;
    if (req.method === 'GET' && url.pathname === '/repos/acme/tk/issues/7/comments') {
      const page = Number(url.searchParams.get('page') ?? '1');
      const slice = comments.slice((page - 1) * 2, page * 2);
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (page * 2 < comments.length) headers.link = `<http://127.0.0.1:${address.port}/repos/acme/tk/issues/7/comments?per_page=2&page=${page + 1}>; rel="next"`;
      res.writeHead(200, headers).end(JSON.stringify(slice));
    } else if (req.method === 'POST' && url.pathname === '/repos/acme/tk/issues/7/comments') {
      const comment = { id: nextId++, body: (await body(req)).body, user: { login: 'github-actions[bot]' } };
      comments.push(comment);
      res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify(comment));
    } else if (req.method === 'PATCH' && /^\/repos\/acme\/tk\/issues\/comments\/\d+$/.test(url.pathname)) {
      const comment = comments.find((c) => c.id === Number(url.pathname.split('/').pop()));
      if (!comment) return void res.writeHead(404).end('{}');
      comment.body = (await body(req)).body;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(comment));
    } else {
      res.writeHead(404).end('{}');
    }
  });
  return { server, comments, requests };
}

function run(args: string[], env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [SCRIPT, ...args], { env: { PATH: process.env.PATH, ...env } });
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.stderr.on('data', (chunk) => (out += chunk));
    child.on('close', (code) => done({ code, out }));
  });
}

describe('the PR comment script', () => {
  const api = githubStandIn();
  let env: Record<string, string>;
  const scratch = mkdtempSync(join(tmpdir(), 'tk-pr-comment-'));
  const previews = join(scratch, 'previews');

  before(async () => {
    await new Promise<void>((ready) => api.server.listen(0, '127.0.0.1', ready));
    const { port } = api.server.address() as AddressInfo;
    env = { GITHUB_TOKEN: TOKEN, GITHUB_REPOSITORY: 'acme/tk', GITHUB_API_URL: `http://127.0.0.1:${port}` };
    mkdirSync(previews);
    writeFileSync(join(scratch, 'migrations.md'), '### Pending migrations\n\n#### `migrations/postgres/002_x.sql`\n\n```sql\nDROP TABLE rules;\n```\n');
    writeFileSync(join(previews, 'prod.txt'), '\u001b[32m+ docker:index:Container app-blue create\u001b[0m\nResources:\n    + 1 to create\n');
    writeFileSync(join(previews, 'prod.exit'), '0\n');
    writeFileSync(join(previews, 'staging.txt'), 'error: could not reach ssh://deploy@tk-staging.example.com\n');
    writeFileSync(join(previews, 'staging.exit'), '255\n');
  });
  after(() => {
    api.server.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  const args = () => ['--pr', '7', '--migrations', join(scratch, 'migrations.md'), '--previews', previews, '--note', 'For abc: tests success.'];

  it('creates one marked comment with the migrations and each stack\'s preview, past other comments on later pages', async () => {
    const first = await run(args(), env);
    assert.equal(first.code, 0, first.out);
    assert.match(first.out, /created comment 100 on #7/);
    const mine = api.comments.filter((c) => c.user.login === 'github-actions[bot]');
    assert.equal(mine.length, 1);
    const body = mine[0]!.body;
    assert.ok(body.startsWith('<!-- trapperkeeper-deploy:pr-preview -->\n'));
    assert.match(body, /For abc: tests success\./);
    assert.match(body, /```sql\nDROP TABLE rules;\n```/);
    assert.match(body, /stack <code>prod<\/code>: preview succeeded<\/summary>\n\n```text\n\+ docker:index:Container app-blue create\nResources:/);
    assert.match(body, /<details open><summary>stack <code>staging<\/code>: preview \*\*failed\*\* \(exit 255\)/);
    assert.doesNotMatch(body, /\u001b/, 'terminal colours are stripped');
    assert.ok(api.requests.includes('GET /repos/acme/tk/issues/7/comments?per_page=2&page=2'), 'it followed the next page');
    assert.doesNotMatch(first.out, new RegExp(TOKEN));
  });

  it('edits that comment on the next run instead of adding one; a person quoting the marker is left alone', async () => {
    writeFileSync(join(previews, 'staging.txt'), 'Resources:\n    ~ 1 to update\n');
    writeFileSync(join(previews, 'staging.exit'), '0\n');
    const second = await run(args(), env);
    assert.equal(second.code, 0, second.out);
    assert.match(second.out, /updated comment 100 on #7/);
    const marked = api.comments.filter((c) => c.body.includes('<!-- trapperkeeper-deploy:pr-preview -->'));
    assert.deepEqual(marked.map((c) => c.id), [2, 100]);
    assert.match(api.comments.find((c) => c.id === 100)!.body, /stack <code>staging<\/code>: preview succeeded/);
    assert.equal(api.comments.find((c) => c.id === 2)!.body.startsWith('> '), true);
    assert.equal(api.requests.filter((r) => r.startsWith('POST')).length, 1);
  });

  it('fails (exit 1) with the API\'s answer when the token is refused, without printing the token', async () => {
    const refused = await run(args(), { ...env, GITHUB_TOKEN: 'wrong-token' });
    assert.equal(refused.code, 1);
    assert.match(refused.out, /HTTP 401 \{"message":"Bad credentials"\}/);
    assert.doesNotMatch(refused.out, /wrong-token/);
  });

  it('keeps a huge preview under GitHub\'s 65,536-character limit, with its head and its summary', async () => {
    const out = join(scratch, 'body.md');
    writeFileSync(join(previews, 'prod.txt'), `${'~ docker:index:Container app update\n'.repeat(5000)}Resources:\n    ~ 5000 to update\n`);
    const result = await run([...args(), '--dry-run', '--body-out', out], {});
    assert.equal(result.code, 0, result.out);
    const body = readFileSync(out, 'utf8');
    assert.ok(body.length < 65_536, `body is ${body.length} characters`);
    assert.match(body, /characters cut \(the whole preview is in the workflow log\)/);
    assert.match(body, /Resources:\n {4}~ 5000 to update/);
  });
});
