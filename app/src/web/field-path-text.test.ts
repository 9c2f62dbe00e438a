import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFieldPathText, PathTextError } from './field-path-text.js';
import { formatFieldPath } from '../rules/field-path.js';
import type { FieldPath } from '../rules/model.js';

const segs = (text: string) => parseFieldPathText(text).segments;

test('dotted names, indices and wildcards become segments in order', () => {
  assert.deepEqual(segs('user.items[*].price'), [
    { fieldName: 'user' }, { fieldName: 'items' }, { wildcard: {} }, { fieldName: 'price' },
  ]);
  assert.deepEqual(segs('a[0][12].b'), [{ fieldName: 'a' }, { arrayIndex: 0 }, { arrayIndex: 12 }, { fieldName: 'b' }]);
  assert.deepEqual(segs('orders.*.total'), [{ fieldName: 'orders' }, { wildcard: {} }, { fieldName: 'total' }]);
  assert.deepEqual(segs('  name  '), [{ fieldName: 'name' }]);
});

test('quoted bracket names may hold dots, brackets, quotes and spaces', () => {
  assert.deepEqual(segs('headers["content.type"]'), [{ fieldName: 'headers' }, { fieldName: 'content.type' }]);
  assert.deepEqual(segs(`["a]b"]['it\\'s'].c`), [{ fieldName: 'a]b' }, { fieldName: "it's" }, { fieldName: 'c' }]);
  assert.deepEqual(segs('["say \\"hi\\""]'), [{ fieldName: 'say "hi"' }]);
  assert.deepEqual(segs('[*]'), [{ wildcard: {} }]);
});

test('malformed paths are refused with a message that says where', () => {
  const cases: [string, RegExp][] = [
    ['', /enter a field path/],
    ['a..b', /empty name before the "\." at position 3/],
    ['.a', /empty name/],
    ['a.', /ends with "\."/],
    ['a[0', /never closed/],
    ['a[x]', /must hold an index/],
    ['a[-1]', /must hold an index/],
    ['a]b', /unexpected "\]"/],
    ['a[0]b', /expected "\." or "\["/],
    ['a["open]', /never closed|not a valid string/],
    ['a[99999999999]', /too large/],
  ];
  for (const [text, message] of cases) {
    assert.throws(() => parseFieldPathText(text), (error: unknown) =>
      error instanceof PathTextError && message.test(error.message), `"${text}" is refused`);
  }
});

test('the rules module\'s formatted paths parse back to the same segments', () => {
  const paths: FieldPath[] = [
    { segments: [{ fieldName: 'user' }, { fieldName: 'items' }, { wildcard: {} }, { fieldName: 'price' }] },
    { segments: [{ fieldName: 'a.b' }, { arrayIndex: 3 }, { fieldName: '*' }, { fieldName: ' padded ' }] },
    { segments: [{ fieldName: '0' }, { fieldName: 'say "hi"' }, { fieldName: '' }] },
  ];
  assert.equal(formatFieldPath(paths[0]!), 'user.items[*].price');
  assert.equal(formatFieldPath(paths[1]!), '["a.b"][3]["*"][" padded "]');
  assert.equal(parseFieldPathText('user-name.first name').segments.length, 2);
  for (const path of paths) assert.deepEqual(parseFieldPathText(formatFieldPath(path)), path);
});
