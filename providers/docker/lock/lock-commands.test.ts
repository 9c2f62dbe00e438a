import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLockArgs, importLockImageArgs, inspectLockArgs, isNameConflict, lockContainerName, removeLockArgs } from './lock-commands.js';

test('the lock is one never-started container named after the stack prefix, labels sorted', () => {
  assert.equal(lockContainerName('tk-dev'), 'tk-dev-deploy-lock');
  assert.deepEqual(createLockArgs('tk-dev-deploy-lock', { 'b.pid': '7', 'a.user': 'alice' }, 'lock:1'), [
    'container', 'create', '--name', 'tk-dev-deploy-lock', '--network', 'none', '--restart', 'no',
    '--label', 'a.user=alice', '--label', 'b.pid=7', 'lock:1', 'deploy-lock',
  ]);
});

test('inspect reads by name, removal targets one container id', () => {
  assert.deepEqual(inspectLockArgs('tk-dev-deploy-lock'), ['container', 'inspect', '--format', '{{json .}}', 'tk-dev-deploy-lock']);
  assert.deepEqual(removeLockArgs('abc123'), ['container', 'rm', '--force', 'abc123']);
});

test('the lock image is imported from stdin, no registry involved', () => {
  assert.deepEqual(importLockImageArgs('lock:1'), ['image', 'import', '--change', 'LABEL org.trapperkeeper.purpose=deploy-lock', '-', 'lock:1']);
});

test('the engine\'s name conflict is recognised', () => {
  assert.equal(
    isNameConflict('Error response from daemon: Conflict. The container name "/x-deploy-lock" is already in use by container "08b1". You have to remove (or rename) that container to be able to reuse that name.'),
    true,
  );
  assert.equal(isNameConflict('Error response from daemon: No such image: lock:1'), false);
});
