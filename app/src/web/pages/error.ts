import { html, type SafeHtml } from '../html.js';
import { bareLayout } from './layout.js';

export function errorPage(status: number, title: string, explanation: string): SafeHtml {
  return bareLayout(title, html`<div class="card">
  <h1>${status} · ${title}</h1>
  <p>${explanation}</p>
  <p><a href="/rules">Back to the rules</a></p>
</div>`);
}
