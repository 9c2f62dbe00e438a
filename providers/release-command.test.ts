import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalJson, parseReleaseSummary, rollbackInstructions, secretsDigest } from './release-command.js';

describe('release command inputs', () => {
  it('writes equal values as equal JSON whatever their key order', () => {
    assert.equal(canonicalJson({ b: 1, a: { d: [2, { f: 1, e: 0 }], c: null } }), '{"a":{"c":null,"d":[2,{"e":0,"f":1}]},"b":1}');
  });

  it('digests the secrets so a changed secret reruns the release, without containing them', () => {
    const digest = secretsDigest(['a-database-password', 'an-hmac-secret']);
    assert.match(digest, /^[0-9a-f]{64}$/);
    assert.notEqual(secretsDigest(['a-database-passwordx', 'an-hmac-secret']), digest);
    // Length-prefixed: moving a character between values changes the digest.
    assert.notEqual(secretsDigest(['ab', 'c']), secretsDigest(['a', 'bc']));
  });
});

describe('release summary', () => {
  it('is the last JSON summary line of the release CLI, progress lines ignored', () => {
    const stdout = [
      '{"event":"release.started"}',
      'some progress',
      '{"liveSlot":"blue","liveRelease":"1.3.0-aaaa","previousRelease":null,"latestSnapshot":null}',
      '{"liveSlot":"green","liveRelease":"1.4.0-bbbb","previousRelease":"1.3.0-aaaa","latestSnapshot":"tk-prod-20261123T101501Z.dump"}',
      '',
    ].join('\n');
    assert.deepEqual(parseReleaseSummary(stdout), {
      liveSlot: 'green',
      liveRelease: '1.4.0-bbbb',
      previousRelease: '1.3.0-aaaa',
      latestSnapshot: 'tk-prod-20261123T101501Z.dump',
    });
  });

  it('is an error when the CLI printed none (a broken contract, not a person\'s mistake)', () => {
    assert.throws(() => parseReleaseSummary('{"liveSlot":"purple","liveRelease":"x"}\n'), /printed no summary line/);
    assert.throws(() => parseReleaseSummary(''), /printed no summary line/);
  });

  it('tells how to roll back: pin the previous release, or unpin a pinned one', () => {
    assert.match(rollbackInstructions('prod', '1.3.0-aaaa'), /pulumi config set --path release.rollbackTo 1.3.0-aaaa --stack prod && pulumi up --stack prod/);
    assert.match(rollbackInstructions('prod', null), /nothing to roll back to/);
    assert.match(rollbackInstructions('prod', '1.3.0-aaaa', '1.2.0-cccc'), /pins 1.2.0-cccc; .*pulumi config rm --path release.rollbackTo --stack prod/);
  });
});
