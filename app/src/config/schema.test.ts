import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SETTINGS } from './schema.js';

test('every setting has a TK_<SECTION>_<KEY> name and a phrase describing a valid value', () => {
  const byId = Object.fromEntries(SETTINGS.map((s) => [s.id, s]));
  assert.equal(byId['sensor_api.port']?.env, 'TK_SENSOR_API_PORT');
  assert.equal(byId['database.url']?.env, 'TK_DATABASE_URL');
  assert.equal(byId['data_dir']?.env, 'TK_DATA_DIR');
  assert.equal(byId['web_ui.trust_proxy']?.kind, 'boolean');
  assert.equal(byId['shutdown_timeout_ms']?.kind, 'integer');
  assert.equal(byId['log_level']?.kind, 'string');
  assert.equal(byId['database.ca']?.env, 'TK_DATABASE_CA');
  assert.equal(SETTINGS.length, 41);
  for (const setting of SETTINGS) assert.notEqual(setting.expected, 'a valid value', setting.id);
});
