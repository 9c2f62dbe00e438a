import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { CONFIG_EXAMPLES, CONFIG_NAMESPACE } from './config.js';

/**
 * `pulumi config set KEY` writes `<project name>:KEY`, so the program's namespace must be the
 * project's name, or every `pulumi config set` in the README and in the fixes the validator
 * prints writes a key the program never reads.
 */
describe('the config namespace', () => {
  it('is the project name in Pulumi.yaml', () => {
    const project = parseYaml(readFileSync('Pulumi.yaml', 'utf8')) as { name?: unknown };
    assert.equal(project.name, CONFIG_NAMESPACE);
  });

  it('is the namespace of every key in every Pulumi.<stack>.yaml, and each key is one the program reads', () => {
    const stackFiles = readdirSync('.').filter((file) => /^Pulumi\..+\.yaml$/.test(file));
    assert.ok(stackFiles.length >= 2, `stack files found: ${stackFiles.join(', ')}`);
    const topLevelKeys = new Set(Object.keys(CONFIG_EXAMPLES).map((key) => key.split('.')[0]));
    for (const file of stackFiles) {
      const config = (parseYaml(readFileSync(file, 'utf8')) as { config?: Record<string, unknown> }).config ?? {};
      for (const key of Object.keys(config)) {
        const [namespace, name] = key.split(':');
        assert.equal(namespace, CONFIG_NAMESPACE, `${file}: ${key}`);
        assert.ok(topLevelKeys.has(name), `${file}: ${key} is not a key of the stack config`);
      }
    }
  });

  it('is what the README\'s `pulumi config set` lines write to: plain keys the program reads', () => {
    const readme = readFileSync('README.md', 'utf8');
    const keys = [...readme.matchAll(/^pulumi config set (?:--secret )?(?:--path )?'?([A-Za-z][\w.]*)'?/gm)].map((match) => match[1]!);
    assert.ok(keys.includes('postgresPassword') && keys.includes('hmacSecret'), `README sets: ${keys.join(', ')}`);
    for (const key of keys) assert.ok(key in CONFIG_EXAMPLES, `README sets ${key}, which the program does not read`);
  });
});
