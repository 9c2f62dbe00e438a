import { test } from 'node:test';
import assert from 'node:assert/strict';
import { attrIf, escapeHtml, html, SafeHtml } from './html.js';

test('escapeHtml neutralises every character that can open markup or close an attribute', () => {
  assert.equal(escapeHtml(`<script>alert("x" + 'y' + \`z\`)</script> & co`),
    '&lt;script&gt;alert(&quot;x&quot; + &#39;y&#39; + &#96;z&#96;)&lt;/script&gt; &amp; co');
});

test('interpolated strings are escaped, nested templates are not escaped twice', () => {
  const name = '<b>"bold"</b>';
  const inner = html`<em>${name}</em>`;
  const outer = html`<p title="${name}">${inner}</p>`;
  assert.equal(outer.toString(),
    '<p title="&lt;b&gt;&quot;bold&quot;&lt;/b&gt;"><em>&lt;b&gt;&quot;bold&quot;&lt;/b&gt;</em></p>');
});

test('arrays render item by item, and null, undefined and false render as nothing', () => {
  const items = ['a<', 'b&'].map((item) => html`<li>${item}</li>`);
  assert.equal(html`<ul>${items}</ul>${null}${undefined}${false}${0}`.toString(), '<ul><li>a&lt;</li><li>b&amp;</li></ul>0');
});

test('a plain string that looks like markup is still escaped; only SafeHtml passes through', () => {
  assert.equal(html`${'<i>x</i>'}`.toString(), '&lt;i&gt;x&lt;/i&gt;');
  assert.equal(html`${new SafeHtml('<i>x</i>')}`.toString(), '<i>x</i>');
});

test('attrIf writes a boolean attribute only when the condition holds', () => {
  assert.equal(html`<option${attrIf(true, 'selected')}>`.toString(), '<option selected>');
  assert.equal(html`<option${attrIf(false, 'selected')}>`.toString(), '<option>');
});
