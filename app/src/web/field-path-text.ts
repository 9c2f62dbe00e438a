import type { FieldPath, PathSegment } from '../rules/model.js';

/**
 * The text form of a field path used in the rule editor:
 *   user.items[*].price   a[0].b   orders.*.total   headers["content-type"]   ["a.b"].c
 * Names are dotted; `[n]` is an array index, `[*]` or a dotted `*` a wildcard, and
 * `["..."]` a name with characters a dotted name cannot hold (JSON string syntax).
 * It reads everything formatFieldPath (rules/field-path.ts) writes, so a rule round-trips.
 */
export class PathTextError extends Error {
  override name = 'PathTextError';
}

export function parseFieldPathText(text: string): FieldPath {
  const source = text.trim();
  if (source === '') throw new PathTextError('enter a field path, e.g. user.items[*].price');
  const segments: PathSegment[] = [];
  let at = 0;
  let expectName = true; // at the start or right after a dot

  while (at < source.length) {
    const char = source[at];
    if (char === '[') {
      const close = findBracketEnd(source, at);
      segments.push(parseBracket(source.slice(at + 1, close), at));
      at = close + 1;
      expectName = false;
    } else if (char === '.') {
      if (expectName) throw new PathTextError(`empty name before the "." at position ${at + 1}`);
      at += 1;
      expectName = true;
      if (at === source.length) throw new PathTextError('the path ends with "."; add a name after it');
    } else {
      if (!expectName) throw new PathTextError(`expected "." or "[" at position ${at + 1}`);
      let end = at;
      while (end < source.length && source[end] !== '.' && source[end] !== '[') {
        if (source[end] === ']') throw new PathTextError(`unexpected "]" at position ${end + 1}`);
        end += 1;
      }
      const name = source.slice(at, end);
      segments.push(name === '*' ? { wildcard: {} } : { fieldName: name });
      at = end;
      expectName = false;
    }
  }
  return { segments };
}

function findBracketEnd(source: string, open: number): number {
  let at = open + 1;
  const quote = source[at];
  if (quote === '"' || quote === "'") {
    at += 1;
    while (at < source.length && source[at] !== quote) at += source[at] === '\\' ? 2 : 1;
    at += 1;
  }
  const close = source.indexOf(']', at);
  if (close < 0) throw new PathTextError(`the "[" at position ${open + 1} is never closed`);
  return close;
}

function parseBracket(inner: string, open: number): PathSegment {
  const content = inner.trim();
  if (content === '*') return { wildcard: {} };
  if (/^\d+$/.test(content)) {
    const index = Number(content);
    if (index > 2_147_483_647) throw new PathTextError(`array index ${content} is too large`);
    return { arrayIndex: index };
  }
  if (content.startsWith('"') || content.startsWith("'")) {
    const json = content.startsWith("'")
      ? `"${content.slice(1, -1).replace(/\\'/g, "'").replace(/"/g, '\\"')}"`
      : content;
    try {
      const name: unknown = JSON.parse(json);
      if (typeof name === 'string' && content.endsWith(content[0] ?? '')) return { fieldName: name };
    } catch {
      // reported below
    }
    throw new PathTextError(`the quoted name at position ${open + 1} is not a valid string`);
  }
  throw new PathTextError(
    `"[${inner}]" at position ${open + 1} must hold an index (0, 1, ...), * or a quoted name`,
  );
}
