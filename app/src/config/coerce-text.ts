import type { Setting, SettingCheck } from './schema.js';

const TRUE_WORDS = new Set(['true', '1', 'yes', 'on']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'off']);

/**
 * Environment variables and command-line flags arrive as text; this turns the text into
 * the setting's type. Only integer and boolean text is quoted back, never free text.
 */
export function coerceText(setting: Setting, text: string): SettingCheck {
  const trimmed = text.trim();
  switch (setting.kind) {
    case 'integer':
      if (/^[+-]?[0-9]+$/.test(trimmed)) return { ok: true, value: Number(trimmed) };
      return { ok: false, problem: `"${quote(text)}" is not a whole number`, fix: `use ${setting.expected}` };
    case 'boolean': {
      const word = trimmed.toLowerCase();
      if (TRUE_WORDS.has(word)) return { ok: true, value: true };
      if (FALSE_WORDS.has(word)) return { ok: true, value: false };
      return { ok: false, problem: `"${quote(text)}" is not a boolean`, fix: 'use true or false (also accepted: 1/0, yes/no, on/off)' };
    }
    case 'string':
      return { ok: true, value: text };
  }
}

function quote(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}...` : text;
}
