import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isToolkitConfig, sameCaddyConfig } from './read-proxy-state.js';
import { renderCaddyConfig } from './render-caddy-config.js';

/** Caddy's autosave is its own re-encoding of the loaded config (keys sorted). */
function asCaddyAutosaves(value: unknown): unknown {
  const sortKeys = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(sortKeys)
      : v && typeof v === 'object'
        ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b)).map(([k, x]) => [k, sortKeys(x)]))
        : v;
  return JSON.parse(JSON.stringify(sortKeys(value)));
}

describe('loaded config checks', () => {
  const generated = renderCaddyConfig({ prefix: 'tk-dev', graceMs: 15_000 });

  it('recognises the generated config in Caddy\'s re-encoding, so no reload is needed', () => {
    assert.equal(sameCaddyConfig(asCaddyAutosaves(generated), generated), true);
  });

  it('sees a config for another stack or drain timeout as not current', () => {
    assert.equal(sameCaddyConfig(asCaddyAutosaves(renderCaddyConfig({ prefix: 'tk-prod', graceMs: 15_000 })), generated), false);
    assert.equal(sameCaddyConfig(asCaddyAutosaves(renderCaddyConfig({ prefix: 'tk-dev', graceMs: 5_000 })), generated), false);
  });

  it('tells the toolkit\'s config from a foreign one (e.g. the image\'s default Caddyfile)', () => {
    assert.equal(isToolkitConfig(asCaddyAutosaves(generated)), true);
    assert.equal(isToolkitConfig({ apps: { http: { servers: { srv0: { listen: [':80'], routes: [] } } } } }), false);
    assert.equal(isToolkitConfig(null), false);
  });
});
