/**
 * The only way markup is produced in the web UI: the `html` tagged template escapes every
 * interpolated value with `escapeHtml` unless it is already `SafeHtml` (the output of
 * another `html` template). Attribute values in templates are always double-quoted, and
 * escaping covers both quote characters, so the same helper is safe in text and attributes.
 */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

export type HtmlValue = SafeHtml | string | number | boolean | null | undefined | readonly HtmlValue[];

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;',
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (char) => ESCAPES[char] ?? char);
}

function render(value: HtmlValue): string {
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  // null, undefined and false render as nothing so `${cond && html`...`}` reads naturally.
  if (value === null || value === undefined || value === false) return '';
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let out = strings[0] ?? '';
  values.forEach((value, index) => {
    out += render(value) + (strings[index + 1] ?? '');
  });
  return new SafeHtml(out);
}

/** `selected`/`checked` style boolean attributes. */
export function attrIf(condition: boolean, name: 'selected' | 'checked' | 'disabled'): SafeHtml {
  return new SafeHtml(condition ? ` ${name}` : '');
}
