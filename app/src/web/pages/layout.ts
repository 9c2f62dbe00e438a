import { html, type SafeHtml } from '../html.js';
import type { Flash } from '../flash.js';

/** What every logged-in page needs: who is logged in, a CSRF token for its forms, pending flashes. */
export interface PageContext {
  username: string;
  csrfToken: string;
  flashes: Flash[];
}

export type NavSection = 'rules' | 'api-keys' | 'events' | 'status';

const NAV: { section: NavSection; href: string; label: string }[] = [
  { section: 'rules', href: '/rules', label: 'Rules' },
  { section: 'api-keys', href: '/api-keys', label: 'API keys' },
  { section: 'events', href: '/events', label: 'Events' },
  { section: 'status', href: '/status', label: 'Status' },
];

/** The hidden field every POST form carries. */
export function csrfField(token: string): SafeHtml {
  return html`<input type="hidden" name="_csrf" value="${token}">`;
}

/** A one-button POST form (activate, delete, revoke, ...). */
export function postButton(
  action: string,
  label: string,
  csrfToken: string,
  options: { className?: string; title?: string } = {},
): SafeHtml {
  return html`<form method="post" action="${action}">${csrfField(csrfToken)}<button type="submit" class="${options.className ?? 'small'}" title="${options.title ?? ''}">${label}</button></form>`;
}

function renderFlash(flash: Flash): SafeHtml {
  if (flash.kind === 'new-api-key') {
    return html`<div class="flash key" role="status">
      <strong>${flash.message}</strong> Copy it now: it is shown only this once and cannot be recovered.
      <code id="new-api-key">${flash.key}</code></div>`;
  }
  return html`<div class="flash ${flash.kind}" role="${flash.kind === 'error' ? 'alert' : 'status'}">${flash.message}</div>`;
}

function document(title: string, header: SafeHtml, body: SafeHtml): SafeHtml {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · TrapperKeeper</title>
<link rel="stylesheet" href="/assets/style.css">
</head>
<body>
${header}
<main>
${body}
</main>
</body>
</html>`;
}

export function layout(title: string, section: NavSection | null, context: PageContext, body: SafeHtml): SafeHtml {
  const header = html`<header class="top">
  <a class="brand" href="/rules">TrapperKeeper</a>
  <nav>${NAV.map((item) => html`<a href="${item.href}" class="${item.section === section ? 'current' : ''}">${item.label}</a>`)}</nav>
  <div class="who"><span>${context.username}</span>${postButton('/logout', 'Log out', context.csrfToken)}</div>
</header>`;
  return document(title, header, html`${context.flashes.map(renderFlash)}${body}`);
}

/** Pages shown without a session (login, errors before login). */
export function bareLayout(title: string, body: SafeHtml): SafeHtml {
  return document(title, html`<header class="top"><a class="brand" href="/">TrapperKeeper</a></header>`, body);
}
