import { html, type SafeHtml } from '../html.js';
import { bareLayout, csrfField } from './layout.js';

export function loginPage(options: {
  csrfToken: string;
  username?: string;
  error?: string;
  noUsersYet: boolean;
  next?: string;
}): SafeHtml {
  return bareLayout('Log in', html`<div class="login card">
  <h1>Log in</h1>
  ${options.noUsersYet && html`<div class="flash error" role="alert">No user exists yet. Create the first administrator on the server with
    <code>trapperkeeper users create-admin --username &lt;name&gt;</code>
    (it reads the password from <code>TK_ADMIN_PASSWORD</code> or standard input), then log in here.</div>`}
  ${options.error && html`<div class="flash error" role="alert">${options.error}</div>`}
  <form method="post" action="/login">
    ${csrfField(options.csrfToken)}
    ${options.next && html`<input type="hidden" name="next" value="${options.next}">`}
    <div class="field"><label for="username">Username</label>
      <input id="username" name="username" type="text" autocomplete="username" required autofocus value="${options.username ?? ''}"></div>
    <div class="field"><label for="password">Password</label>
      <input id="password" name="password" type="password" autocomplete="current-password" required></div>
    <div class="form-actions"><button type="submit" class="primary">Log in</button></div>
  </form>
</div>`);
}
