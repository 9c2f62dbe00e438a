import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { loadConfig, type LoadConfigInput } from './load.js';
import { ConfigError, formatProblem } from './problems.js';
import {
  DEFAULT_DATABASE_MAX_CONNECTIONS,
  DEFAULT_SENSOR_API_MAX_MESSAGE_BYTES,
  DEFAULT_SENSOR_API_PORT,
  DEFAULT_WEB_UI_PORT,
  defaultIngestWorkers,
} from './defaults.js';
import { UserError } from '../errors.js';

let root: string;
let counter = 0;

before(() => {
  root = mkdtempSync(join(tmpdir(), 'tk-config-'));
});
after(() => {
  rmSync(root, { recursive: true, force: true });
});

/** A fresh etc/home/cwd triple; `files` maps 'etc' | 'home' | 'cwd' | any relative path to TOML text. */
function setup(files: Partial<Record<string, string>> = {}) {
  const base = join(root, String(counter++));
  const dirs = { etc: join(base, 'etc'), home: join(base, 'home'), cwd: join(base, 'work') };
  for (const dir of Object.values(dirs)) mkdirSync(dir, { recursive: true });
  const paths: Record<string, string> = {
    etc: join(dirs.etc, 'trapperkeeper', 'trapperkeeper.toml'),
    home: join(dirs.home, '.config', 'trapperkeeper', 'trapperkeeper.toml'),
    cwd: join(dirs.cwd, 'trapperkeeper.toml'),
  };
  for (const [name, text] of Object.entries(files)) {
    const path = paths[name] ?? join(base, name);
    paths[name] = path;
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text ?? '');
  }
  const input = (overrides: Partial<LoadConfigInput> = {}): LoadConfigInput => ({
    env: {},
    cwd: dirs.cwd,
    homeDir: dirs.home,
    etcDir: dirs.etc,
    ...overrides,
  });
  return { dirs, paths, input };
}

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${String(error)}`);
    assert.ok(error instanceof UserError);
    return error;
  }
  assert.fail('expected loadConfig to throw');
}

/** 32 bytes with 32 different values: a secret the entropy check accepts. */
const SECRET_BYTES = Buffer.from(Array.from({ length: 32 }, (_, i) => (i * 37 + 11) % 256));
const SECRET_VALUE = SECRET_BYTES.toString('base64');
const HMAC = `${'a'.repeat(32)}:${SECRET_VALUE}`;
/** A self-signed CA certificate (public test data; its key was thrown away). */
const TEST_CA = readFileSync(new URL('../../test/fixtures/test-ca.pem', import.meta.url), 'utf8').trim();

describe('loadConfig defaults', () => {
  test('with no files, env or flags every setting takes its named default', () => {
    const { input, dirs } = setup();
    const config = loadConfig(input());
    assert.equal(config.dataDir, join(dirs.cwd, 'data'));
    assert.equal(config.logLevel, 'info');
    assert.deepEqual(config.refusalLog, { perPeer: 10, perKind: 100, intervalMs: 60_000 });
    assert.equal(config.shutdownTimeoutMs, 10_000);
    assert.deepEqual(config.sensorApi, {
      host: '0.0.0.0',
      port: DEFAULT_SENSOR_API_PORT,
      httpPort: 9090,
      maxConnections: 1000,
      maxConnectionsPerAddress: 100,
      handshakeTimeoutMs: 10_000,
      idleTimeoutMs: 300_000,
      keepaliveTimeMs: 120_000,
      keepaliveTimeoutMs: 20_000,
      maxBatchSize: 1000,
      maxMessageBytes: DEFAULT_SENSOR_API_MAX_MESSAGE_BYTES,
      ingestWorkers: defaultIngestWorkers(),
      syncTagLimits: { maxTags: 64, maxTagBytes: 256, maxTotalTagBytes: 4096 },
      syncCacheMaxBytes: 8 * 1024 * 1024,
    });
    assert.deepEqual(config.webUi, {
      host: '0.0.0.0',
      port: DEFAULT_WEB_UI_PORT,
      metricsHost: '127.0.0.1',
      metricsPort: 9091,
      sessionTtlMinutes: 480,
      trustProxy: false,
      maxBodyBytes: 262_144,
      shutdownDelayMs: 3_000,
      loginThrottle: { failuresPerAddressAccount: 5, failuresPerAddress: 20, failuresPerAccount: 100, backoffMaxMs: 900_000 },
    });
    assert.deepEqual(config.database, {
      url: `sqlite://${join(dirs.cwd, 'data')}/trapperkeeper.db`,
      maxConnections: DEFAULT_DATABASE_MAX_CONNECTIONS,
      minIdle: 4,
      idleTimeoutMs: 300_000,
      maxLifetimeMs: 1_800_000,
      connectionTimeoutMs: 5_000,
    });
    assert.deepEqual(config.hmacSecrets, []);
    assert.deepEqual(config.sources, []);
    assert.equal(config.origins['sensor_api.port'], 'default');
  });

  test('the refusal log limits come from TK_LOG_REFUSAL_* and are validated like every key', () => {
    const { input } = setup();
    const config = loadConfig(input({ env: { TK_LOG_REFUSAL_LINES_PER_PEER: '3', TK_LOG_REFUSAL_LINES: '20', TK_LOG_REFUSAL_INTERVAL_MS: '5000' } }));
    assert.deepEqual(config.refusalLog, { perPeer: 3, perKind: 20, intervalMs: 5000 });
    const error = configError(() => loadConfig(input({ env: { TK_LOG_REFUSAL_LINES_PER_PEER: '0', TK_LOG_REFUSAL_INTERVAL_MS: '10' } })));
    assert.deepEqual(error.problems.map(formatProblem).sort(), [
      'log_refusal_interval_ms (env TK_LOG_REFUSAL_INTERVAL_MS): 10 is below the minimum of 1000; use a whole number of milliseconds from 1000 to 2147483647',
      'log_refusal_lines_per_peer (env TK_LOG_REFUSAL_LINES_PER_PEER): 0 is below the minimum of 1; use a whole number of lines from 1 to 1000000',
    ]);
  });

  test('a relative data_dir is made absolute against cwd, ~ against the home directory, and the default database follows it', () => {
    const { input, dirs } = setup();
    const relative = loadConfig(input({ env: { TK_DATA_DIR: 'state/tk' } }));
    assert.equal(relative.dataDir, join(dirs.cwd, 'state', 'tk'));
    assert.equal(relative.database.url, `sqlite://${join(dirs.cwd, 'state', 'tk')}/trapperkeeper.db`);
    const home = loadConfig(input({ env: { TK_DATA_DIR: '~/tk' } }));
    assert.equal(home.dataDir, join(dirs.home, 'tk'));
  });

  test('ingestion workers default to one CPU less than the machine has, at most 4, and can be set', () => {
    assert.deepEqual([1, 2, 3, 5, 16].map((cpus) => defaultIngestWorkers(cpus)), [0, 1, 2, 4, 4]);
    const { input } = setup();
    assert.equal(loadConfig(input({ env: { TK_SENSOR_API_INGEST_WORKERS: '0' } })).sensorApi.ingestWorkers, 0);
    assert.throws(
      () => loadConfig(input({ env: { TK_SENSOR_API_INGEST_WORKERS: '65' } })),
      (error: ConfigError) => /sensor_api\.ingest_workers \(env TK_SENSOR_API_INGEST_WORKERS\): 65 is above the maximum of 64/.test(error.message),
    );
  });

  test('SyncRules tag limits and the tag-set cache bound are read from files and env, and validated', () => {
    const { input, paths } = setup({ cwd: '[sensor_api]\nsync_max_tags = 8\nsync_max_tag_bytes = 32\n' });
    const config = loadConfig(input({ env: { TK_SENSOR_API_SYNC_MAX_TOTAL_TAG_BYTES: '128', TK_SENSOR_API_SYNC_CACHE_MAX_BYTES: '65536' } }));
    assert.deepEqual(config.sensorApi.syncTagLimits, { maxTags: 8, maxTagBytes: 32, maxTotalTagBytes: 128 });
    assert.equal(config.sensorApi.syncCacheMaxBytes, 65_536);
    assert.equal(config.origins['sensor_api.sync_max_tags'], `file ${paths['cwd']}`);
    assert.throws(
      () => loadConfig(input({ env: { TK_SENSOR_API_SYNC_MAX_TAGS: '0', TK_SENSOR_API_SYNC_CACHE_MAX_BYTES: '1024' } })),
      (error: ConfigError) =>
        /sensor_api\.sync_max_tags \(env TK_SENSOR_API_SYNC_MAX_TAGS\): 0 is below the minimum of 1/.test(error.message) &&
        /sensor_api\.sync_cache_max_bytes \(env TK_SENSOR_API_SYNC_CACHE_MAX_BYTES\): 1024 is below the minimum of 65536/.test(error.message),
    );
  });

  test('the sensor API connection limits are set from files and env, and out-of-range ones are named with their fix', () => {
    const { input, paths } = setup({
      cwd: '[sensor_api]\nmax_connections_per_address = 20\nhandshake_timeout_ms = 2000\nidle_timeout_ms = 60000\n',
    });
    const config = loadConfig(input({ env: { TK_SENSOR_API_KEEPALIVE_TIME_MS: '30000', TK_SENSOR_API_KEEPALIVE_TIMEOUT_MS: '5000' } }));
    assert.equal(config.sensorApi.maxConnectionsPerAddress, 20);
    assert.equal(config.sensorApi.handshakeTimeoutMs, 2000);
    assert.equal(config.sensorApi.idleTimeoutMs, 60_000);
    assert.equal(config.sensorApi.keepaliveTimeMs, 30_000);
    assert.equal(config.sensorApi.keepaliveTimeoutMs, 5000);
    assert.equal(config.origins['sensor_api.handshake_timeout_ms'], `file ${paths['cwd']}`);

    const error = configError(() =>
      loadConfig(input({ env: { TK_SENSOR_API_MAX_CONNECTIONS_PER_ADDRESS: '0', TK_SENSOR_API_HANDSHAKE_TIMEOUT_MS: '10' } })),
    );
    assert.deepEqual(
      error.problems.map((p) => `${p.key} (${p.source}): ${p.problem}; ${p.fix}`),
      [
        'sensor_api.handshake_timeout_ms (env TK_SENSOR_API_HANDSHAKE_TIMEOUT_MS): 10 is below the minimum of 100; use a whole number of milliseconds from 100 to 2147483647',
        'sensor_api.max_connections_per_address (env TK_SENSOR_API_MAX_CONNECTIONS_PER_ADDRESS): 0 is below the minimum of 1; use a whole number of connections from 1 to 1000000',
      ],
    );
  });

  test('an empty environment variable counts as unset', () => {
    const { input } = setup();
    const config = loadConfig(input({ env: { TK_SENSOR_API_PORT: '', TK_HMAC_SECRET: '' } }));
    assert.equal(config.sensorApi.port, DEFAULT_SENSOR_API_PORT);
    assert.deepEqual(config.hmacSecrets, []);
  });
});

describe('loadConfig precedence', () => {
  test('flag beats env beats the cwd file beats the home file beats the /etc file beats the default', () => {
    const { input, paths } = setup({
      etc: '[sensor_api]\nport = 1001\nhttp_port = 2001\nmax_connections = 3001\nmax_batch_size = 4001\n',
      home: '[sensor_api]\nport = 1002\nhttp_port = 2002\nmax_connections = 3002\n',
      cwd: '[sensor_api]\nport = 1003\nhttp_port = 2003\n',
    });
    const config = loadConfig(
      input({ env: { TK_SENSOR_API_PORT: '1004', TK_SENSOR_API_HTTP_PORT: '2004' }, flags: { sensorApi: { port: '1005' } } }),
    );
    assert.equal(config.sensorApi.port, 1005);
    assert.equal(config.sensorApi.httpPort, 2004);
    assert.equal(config.sensorApi.maxConnections, 3002);
    assert.equal(config.sensorApi.maxBatchSize, 4001);
    assert.equal(config.sensorApi.maxMessageBytes, DEFAULT_SENSOR_API_MAX_MESSAGE_BYTES);
    assert.deepEqual(config.sources, [paths['etc'], paths['home'], paths['cwd']]);
    assert.equal(config.origins['sensor_api.port'], 'flag --port');
    assert.equal(config.origins['sensor_api.http_port'], 'env TK_SENSOR_API_HTTP_PORT');
    assert.equal(config.origins['sensor_api.max_connections'], `file ${paths['home']}`);
    assert.equal(config.origins['sensor_api.max_batch_size'], `file ${paths['etc']}`);
    assert.equal(config.origins['sensor_api.max_message_bytes'], 'default');
  });

  test('global flags set data_dir, the database URL and the log level over the environment', () => {
    const { input } = setup();
    const config = loadConfig(
      input({
        env: { TK_DATA_DIR: '/env/data', TK_DATABASE_URL: 'postgres://env-host/tk', TK_LOG_LEVEL: 'warn' },
        flags: { global: { dataDir: '/flag/data', dbUrl: 'mysql://flag-host/tk', logLevel: 'debug' } },
      }),
    );
    assert.equal(config.dataDir, '/flag/data');
    assert.equal(config.database.url, 'mysql://flag-host/tk');
    assert.equal(config.logLevel, 'debug');
  });

  test('web-ui flags set the web_ui section and leave sensor_api alone', () => {
    const { input } = setup();
    const config = loadConfig(input({ flags: { webUi: { port: 8443, host: '127.0.0.1' } } }));
    assert.equal(config.webUi.port, 8443);
    assert.equal(config.webUi.host, '127.0.0.1');
    assert.equal(config.sensorApi.port, DEFAULT_SENSOR_API_PORT);
    assert.equal(config.sensorApi.host, '0.0.0.0');
  });

  test('environment variables are coerced to numbers and booleans', () => {
    const { input } = setup();
    const config = loadConfig(
      input({ env: { TK_WEB_UI_TRUST_PROXY: 'yes', TK_WEB_UI_SESSION_TTL_MINUTES: ' 60 ', TK_SHUTDOWN_TIMEOUT_MS: '0' } }),
    );
    assert.equal(config.webUi.trustProxy, true);
    assert.equal(config.webUi.sessionTtlMinutes, 60);
    assert.equal(config.shutdownTimeoutMs, 0);
  });

  test('top-level keys and every section are read from TOML', () => {
    const { input } = setup({
      cwd: [
        'data_dir = "/srv/tk"',
        'log_level = "trace"',
        'shutdown_timeout_ms = 2500',
        '[web_ui]',
        'trust_proxy = true',
        'metrics_host = "0.0.0.0"',
        'metrics_port = 9191',
        'max_body_bytes = 65536',
        'shutdown_delay_ms = 1500',
        'login_failures_per_address_account = 3',
        'login_failures_per_address = 10',
        'login_failures_per_account = 40',
        'login_backoff_max_ms = 60000',
        '[database]',
        'url = "postgresql://tk@db.internal:5432/tk"',
        'max_connections = 8',
        'min_idle = 0',
        'idle_timeout_ms = 1000',
        'max_lifetime_ms = 2000',
        'connection_timeout_ms = 300',
      ].join('\n'),
    });
    const config = loadConfig(input());
    assert.equal(config.dataDir, '/srv/tk');
    assert.equal(config.logLevel, 'trace');
    assert.equal(config.shutdownTimeoutMs, 2500);
    assert.equal(config.webUi.trustProxy, true);
    assert.equal(config.webUi.metricsHost, '0.0.0.0');
    assert.equal(config.webUi.metricsPort, 9191);
    assert.equal(config.webUi.maxBodyBytes, 65536);
    assert.equal(config.webUi.shutdownDelayMs, 1500);
    assert.deepEqual(config.webUi.loginThrottle, { failuresPerAddressAccount: 3, failuresPerAddress: 10, failuresPerAccount: 40, backoffMaxMs: 60000 });
    assert.deepEqual(config.database, {
      url: 'postgresql://tk@db.internal:5432/tk',
      maxConnections: 8,
      minIdle: 0,
      idleTimeoutMs: 1000,
      maxLifetimeMs: 2000,
      connectionTimeoutMs: 300,
    });
  });
});

describe('loadConfig --config', () => {
  test('--config replaces the default locations', () => {
    const { input, paths } = setup({
      etc: 'log_level = "error"\n[web_ui]\nport = 1111\n',
      cwd: '[web_ui]\nport = 2222\n',
      'custom/tk.toml': '[web_ui]\nport = 3333\n',
    });
    const config = loadConfig(input({ flags: { global: { config: paths['custom/tk.toml'] } } }));
    assert.equal(config.webUi.port, 3333);
    assert.equal(config.logLevel, 'info');
    assert.deepEqual(config.sources, [paths['custom/tk.toml']]);
  });

  test('a relative --config path is taken from cwd', () => {
    const { input } = setup({ 'work/conf/tk.toml': 'log_level = "warn"\n' });
    assert.equal(loadConfig(input({ flags: { global: { config: 'conf/tk.toml' } } })).logLevel, 'warn');
  });

  test('TK_CONFIG_FILE names the file when --config is absent, and --config wins over it', () => {
    const { input, paths } = setup({ 'a.toml': 'log_level = "warn"\n', 'b.toml': 'log_level = "error"\n' });
    assert.equal(loadConfig(input({ env: { TK_CONFIG_FILE: paths['a.toml'] } })).logLevel, 'warn');
    const both = loadConfig(input({ env: { TK_CONFIG_FILE: paths['a.toml'] }, flags: { global: { config: paths['b.toml'] } } }));
    assert.equal(both.logLevel, 'error');
  });

  test('a missing --config file is an error naming the path and the flag', () => {
    const { input, dirs } = setup();
    const missing = join(dirs.cwd, 'nope.toml');
    const error = configError(() => loadConfig(input({ flags: { global: { config: missing } } })));
    assert.match(error.message, new RegExp(`config \\(flag --config\\): the file ${missing} does not exist`));
  });
});

describe('loadConfig rejections', () => {
  test('an unknown key in a file names the file and the key, and suggests the near miss', () => {
    const { input, paths } = setup({ home: '[sensor_api]\nprot = 5000\n' });
    const error = configError(() => loadConfig(input()));
    assert.equal(error.problems.length, 1);
    assert.match(error.message, new RegExp(`sensor_api\\.prot \\(file ${paths['home']}\\): is not a known setting; did you mean "port"`));
  });

  test('an unknown section or top-level key is reported, and [common] gets a hint to move its keys', () => {
    const { input, paths } = setup({ cwd: 'colour = "blue"\n[common]\ndata_dir = "/x"\n' });
    const error = configError(() => loadConfig(input()));
    const keys = error.problems.map((p) => `${p.key} ${p.source}`);
    assert.deepEqual(keys, [`colour file ${paths['cwd']}`, `common file ${paths['cwd']}`]);
    assert.match(error.problems[1]?.fix ?? '', /move the keys of \[common\] to the top/);
  });

  test('an unknown TK_ variable that looks like ours is reported with a suggestion; unrelated TK_ variables are ignored', () => {
    const { input } = setup();
    const error = configError(() =>
      loadConfig(input({ env: { TK_SENSOR_API_PROT: '1', TK_LOGLEVEL: 'debug', TK_LIBRARY: '/usr/lib/tk8.6', TK_WEB_UI_COLOUR: 'x' } })),
    );
    assert.deepEqual(
      error.problems.map((p) => `${p.key} (${p.source}): ${p.fix.split('?')[0]}`),
      [
        'TK_LOGLEVEL (env TK_LOGLEVEL): did you mean TK_LOG_LEVEL',
        'TK_SENSOR_API_PROT (env TK_SENSOR_API_PROT): did you mean TK_SENSOR_API_PORT',
        `TK_WEB_UI_COLOUR (env TK_WEB_UI_COLOUR): ${error.problems[2]?.fix}`,
      ],
    );
    assert.match(error.problems[2]?.fix ?? '', /^unset it \(known: TK_DATA_DIR/);
  });

  test('wrong types in a file are reported with the key, the file and what to write', () => {
    const { input, paths } = setup({ cwd: '[sensor_api]\nport = "50051"\nhost = 7\n[web_ui]\ntrust_proxy = "yes"\nsession_ttl_minutes = 1.5\n' });
    const error = configError(() => loadConfig(input()));
    const source = `file ${paths['cwd']}`;
    assert.deepEqual(
      error.problems.map((p) => `${p.key} (${p.source}): ${p.problem}`),
      [
        `sensor_api.port (${source}): expected a whole number, found text`,
        `sensor_api.host (${source}): expected text, found a whole number`,
        `web_ui.trust_proxy (${source}): expected a boolean, found text`,
        `web_ui.session_ttl_minutes (${source}): 1.5 is not a whole number`,
      ],
    );
    assert.equal(error.problems[0]?.fix, 'use a port number from 1 to 65535');
  });

  test('out-of-range ports are rejected from every source', () => {
    const { input, paths } = setup({ cwd: '[web_ui]\nport = 0\n' });
    const error = configError(() =>
      loadConfig(input({ env: { TK_SENSOR_API_PORT: '70000' }, flags: { sensorApi: { httpPort: 65536 } } })),
    );
    assert.deepEqual(
      error.problems.map((p) => `${p.key} (${p.source}): ${p.problem}; ${p.fix}`),
      [
        `web_ui.port (file ${paths['cwd']}): 0 is below the minimum of 1; use a port number from 1 to 65535`,
        'sensor_api.port (env TK_SENSOR_API_PORT): 70000 is above the maximum of 65535; use a port number from 1 to 65535',
        'sensor_api.http_port (flag --http-port): 65536 is above the maximum of 65535; use a port number from 1 to 65535',
      ],
    );
  });

  test('env text that is not a number or boolean gets a clear coercion error', () => {
    const { input } = setup();
    const error = configError(() =>
      loadConfig(input({ env: { TK_DATABASE_MAX_CONNECTIONS: 'lots', TK_WEB_UI_TRUST_PROXY: 'maybe' }, flags: { webUi: { port: '80a' } } })),
    );
    assert.deepEqual(
      error.problems.map((p) => `${p.key} (${p.source}): ${p.problem}`),
      [
        'database.max_connections (env TK_DATABASE_MAX_CONNECTIONS): "lots" is not a whole number',
        'web_ui.trust_proxy (env TK_WEB_UI_TRUST_PROXY): "maybe" is not a boolean',
        'web_ui.port (flag --port): "80a" is not a whole number',
      ],
    );
  });

  test('an unknown log level and an unsupported or scheme-less database URL are rejected', () => {
    const { input } = setup();
    const error = configError(() =>
      loadConfig(input({ env: { TK_LOG_LEVEL: 'verbose', TK_DATABASE_URL: 'mongodb://u:hunter2@h/db' } })),
    );
    assert.deepEqual(
      error.problems.map((p) => `${p.key} (${p.source}): ${p.problem}`),
      [
        'database.url (env TK_DATABASE_URL): uses the unsupported scheme "mongodb:"',
        'log_level (env TK_LOG_LEVEL): "verbose" is not a known value',
      ],
    );
    assert.match(error.problems[1]?.fix ?? '', /trace, debug, info, warn, error, fatal/);
    assert.doesNotMatch(error.message, /hunter2/);
    const bare = configError(() => loadConfig(input({ flags: { global: { dbUrl: './dev.db' } } })));
    assert.match(bare.message, /database\.url \(flag --db-url\): has no scheme/);
  });

  test('postgres, postgresql, mysql and sqlite URLs are accepted', () => {
    const { input } = setup();
    for (const url of ['postgres://h/db', 'postgresql://u@h:5432/db', 'mysql://root@127.0.0.1:3306/tk', 'sqlite:///tmp/x.db']) {
      assert.equal(loadConfig(input({ env: { TK_DATABASE_URL: url } })).database.url, url);
    }
  });

  test('cross-field problems name the key and its source: min_idle above max_connections, gRPC and HTTP on one port', () => {
    const { input, paths } = setup({ cwd: '[database]\nmin_idle = 20\n' });
    const error = configError(() => loadConfig(input({ env: { TK_DATABASE_MAX_CONNECTIONS: '10' }, flags: { sensorApi: { httpPort: 50051 } } })));
    assert.deepEqual(
      error.problems.map((p) => `${p.key} (${p.source})`),
      [`database.min_idle (file ${paths['cwd']})`, 'sensor_api.http_port (flag --http-port)'],
    );
    assert.match(error.problems[0]?.problem ?? '', /20 idle connections exceed database\.max_connections \(10\)/);
  });

  test('database.ca (TK_DATABASE_CA) takes PEM certificates for a PostgreSQL URL that verifies the server, and refuses what would not use them', () => {
    const { input } = setup();
    const url = 'postgres://tk@db.internal:5432/tk?sslmode=verify-full';
    const config = loadConfig(input({ env: { TK_DATABASE_URL: url, TK_DATABASE_CA: `${TEST_CA}\n${TEST_CA}\n` } }));
    assert.equal(config.database.ca, `${TEST_CA}\n${TEST_CA}\n`);
    assert.equal(config.origins['database.ca'], 'env TK_DATABASE_CA');
    assert.equal(loadConfig(input({ env: { TK_DATABASE_URL: 'postgres://tk@db/tk', TK_DATABASE_CA: TEST_CA } })).database.ca, TEST_CA, 'no sslmode: verify-full');
    assert.equal(loadConfig(input({ env: { TK_DATABASE_URL: url } })).database.ca, undefined);
    const problems = (env: Record<string, string>) => configError(() => loadConfig(input({ env }))).problems.map((p) => `${p.key} (${p.source}): ${p.problem}; ${p.fix}`);
    assert.deepEqual(problems({ TK_DATABASE_URL: url, TK_DATABASE_CA: 'not a certificate' }), [
      'database.ca (env TK_DATABASE_CA): holds no PEM certificate (-----BEGIN CERTIFICATE----- ... -----END CERTIFICATE-----); use the PEM certificates (-----BEGIN CERTIFICATE----- ...) of the CAs the PostgreSQL server\'s certificate must chain to',
    ]);
    assert.match(problems({ TK_DATABASE_URL: url, TK_DATABASE_CA: TEST_CA.replace('MIIB', 'MIIX') })[0]!, /certificate 1 of 1 is not a valid X\.509 certificate/);
    assert.deepEqual(problems({ TK_DATABASE_URL: 'postgres://tk:hunter2@db/tk?sslmode=no-verify', TK_DATABASE_CA: TEST_CA }), [
      "database.ca (env TK_DATABASE_CA): is set, but database.url has sslmode=no-verify, which does not verify the server's certificate and name against it; use sslmode=verify-full in database.url (or leave sslmode out), or unset database.ca",
    ]);
    assert.deepEqual(problems({ TK_DATABASE_URL: 'sqlite:///tmp/tk.db', TK_DATABASE_CA: TEST_CA }), [
      'database.ca (env TK_DATABASE_CA): is set, but database.url is not a PostgreSQL URL (sqlite); only PostgreSQL connections verify against it; unset database.ca (TK_DATABASE_CA)',
    ]);
  });

  test('the web UI pages and its metrics cannot share a port', () => {
    const { input } = setup();
    const error = configError(() => loadConfig(input({ env: { TK_WEB_UI_METRICS_PORT: '8080' } })));
    assert.deepEqual(error.problems.map((p) => `${p.key} (${p.source})`), ['web_ui.metrics_port (env TK_WEB_UI_METRICS_PORT)']);
    assert.match(error.problems[0]?.fix ?? '', /different values/);
  });

  test('invalid TOML is reported with its position but without quoting the line', () => {
    const { input, paths } = setup({ cwd: 'log_level = "info"\napi_token = "tok-very-private\n' });
    const error = configError(() => loadConfig(input()));
    assert.equal(error.problems.length, 1);
    assert.match(error.message, new RegExp(`syntax \\(file ${paths['cwd']}\\): is not valid TOML at line 2`));
    assert.doesNotMatch(error.message, /very-private/);
  });

  test('every problem from every source is reported in one error', () => {
    const { input, paths } = setup({
      etc: '[sensor_api]\nport = 99999\n',
      home: 'hmac_secret = "abc"\n',
      cwd: '[database]\nurl = "ftp://x"\nbogus = 1\n',
    });
    const error = configError(() =>
      loadConfig(
        input({
          env: { TK_LOG_LEVEL: 'loud', TK_WEB_UI_PROT: '1', TK_HMAC_SECRET: 'not-a-secret' },
          flags: { webUi: { port: -1 } },
        }),
      ),
    );
    assert.deepEqual(
      error.problems.map((p) => `${p.key} (${p.source})`),
      [
        `sensor_api.port (file ${paths['etc']})`,
        `hmac_secret (file ${paths['home']})`,
        `database.url (file ${paths['cwd']})`,
        `database.bogus (file ${paths['cwd']})`,
        'log_level (env TK_LOG_LEVEL)',
        'TK_WEB_UI_PROT (env TK_WEB_UI_PROT)',
        'web_ui.port (flag --port)',
        'hmac_secret (env TK_HMAC_SECRET)',
      ],
    );
    assert.match(error.message, /^Invalid configuration \(8 problems\):\n {2}- /);
    for (const problem of error.problems) assert.ok(problem.fix.length > 0, `${problem.key} has a fix`);
  });
});

describe('loadConfig secrets', () => {
  test('secrets in a file are refused, naming the file and key and never the value', () => {
    const { input, paths } = setup({
      cwd: [
        'hmac_secret = "s3cr3t-one"',
        '[sensor_api]',
        'api_key = "s3cr3t-two"',
        '[web_ui]',
        'admin_password = "s3cr3t-three"',
        '[database]',
        'url = "postgres://tk:s3cr3t-four@db/tk"',
        '[extra.nested]',
        'session_token = "s3cr3t-five"',
      ].join('\n'),
    });
    const error = configError(() => loadConfig(input()));
    const source = `file ${paths['cwd']}`;
    assert.deepEqual(
      error.problems.map((p) => `${p.key} (${p.source})`),
      [
        `hmac_secret (${source})`,
        `sensor_api.api_key (${source})`,
        `web_ui.admin_password (${source})`,
        `extra.nested.session_token (${source})`,
        `database.url (${source})`,
        `extra (${source})`,
      ],
    );
    assert.match(error.problems[0]?.fix ?? '', /TK_HMAC_SECRET/);
    assert.match(error.problems[4]?.fix ?? '', /TK_DATABASE_PASSWORD/);
    assert.doesNotMatch(error.message + (error.fix ?? ''), /s3cr3t/);
  });

  test('a password in a database URL from the environment is allowed', () => {
    const { input } = setup();
    const config = loadConfig(input({ env: { TK_DATABASE_URL: 'postgres://tk:pw@db/tk' } }));
    assert.equal(config.database.url, 'postgres://tk:pw@db/tk');
  });

  test('a password in --db-url is refused (argv is visible to every user), without echoing it, pointing to the environment', () => {
    const { input } = setup();
    for (const dbUrl of ['postgres://tk:argv-pw@db/tk', 'mysql://root@db/tk?password=argv-pw']) {
      const error = configError(() => loadConfig(input({ flags: { global: { dbUrl } } })));
      assert.equal(error.problems.length, 1, dbUrl);
      assert.match(formatProblem(error.problems[0]!), /^database\.url \(flag --db-url\): contains a password, and command lines are visible to every user/);
      assert.match(error.problems[0]?.fix ?? '', /TK_DATABASE_PASSWORD.*TK_DATABASE_URL/);
      assert.doesNotMatch(error.message + (error.fix ?? ''), /argv-pw/);
    }
  });

  test('--db-url without a password combines with TK_DATABASE_PASSWORD', () => {
    const { input } = setup();
    const config = loadConfig(input({ flags: { global: { dbUrl: 'postgres://tk@db/tk' } }, env: { TK_DATABASE_PASSWORD: 'pw' } }));
    assert.equal(config.database.url, 'postgres://tk:pw@db/tk');
    assert.equal(config.origins['database.url'], 'flag --db-url + env TK_DATABASE_PASSWORD');
  });

  test('TK_DATABASE_PASSWORD is put into a file URL that has none, percent-encoded', () => {
    const { input } = setup({ cwd: '[database]\nurl = "postgres://tk@db.internal/tk"\n' });
    const config = loadConfig(input({ env: { TK_DATABASE_PASSWORD: 'p@ss:w/rd' } }));
    assert.equal(config.database.url, 'postgres://tk:p%40ss%3Aw%2Frd@db.internal/tk');
    assert.equal(decodeURIComponent(new URL(config.database.url).password), 'p@ss:w/rd');
  });

  test('TK_DATABASE_PASSWORD with a SQLite URL or a URL that already has a password is an error that hides both', () => {
    const { input } = setup();
    const sqlite = configError(() => loadConfig(input({ env: { TK_DATABASE_PASSWORD: 'hidden-pw' } })));
    assert.match(sqlite.message, /database\.password \(env TK_DATABASE_PASSWORD\): is set, but database\.url \(default\) is a SQLite file/);
    const twice = configError(() =>
      loadConfig(input({ env: { TK_DATABASE_PASSWORD: 'hidden-pw', TK_DATABASE_URL: 'mysql://u:other-pw@h/db' } })),
    );
    assert.match(twice.message, /already contains a password/);
    assert.doesNotMatch(sqlite.message + twice.message, /hidden-pw|other-pw/);
  });

  test('HMAC secrets from the environment are parsed, primary first', () => {
    const { input } = setup();
    const config = loadConfig(input({ env: { TK_HMAC_SECRET: HMAC } }));
    assert.deepEqual(config.hmacSecrets.map((s) => s.id), ['a'.repeat(32)]);
    assert.deepEqual(config.hmacSecrets[0]?.secret, SECRET_BYTES);
  });
});
