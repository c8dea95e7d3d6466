// Bad input at the config door: files that are empty, not YAML/JSON, the wrong shape, the
// wrong types, with unknown keys, hostile (alias bombs, deep nesting, __proto__), and
// environment overrides with bad values. Each is a ConfigError naming the path (and the
// variable, for env overrides) — exit 2 from the CLI — and never echoes a secret.
import { describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import YAML from 'yaml';
import { loadConfig } from '../../src/config/load-config.js';
import { ConfigError } from '../../src/errors.js';

const REPO = resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'bad-input-config-'));
let n = 0;

const VALID = [
  'kafka:',
  '  brokers: ["k1:9092"]',
  '  topics: [legacy.public.users]',
  'cognito:',
  '  userPoolId: eu-west-1_AbC123',
  '  region: eu-west-1',
  `mapping: ${join(REPO, 'examples/mapping.yaml')}`,
].join('\n');

function file(text: string | Buffer, ext = 'yaml'): string {
  const path = join(dir, `c${n++}.${ext}`);
  writeFileSync(path, text);
  return path;
}

/** The ConfigError loading `text` produces. */
function errorOf(text: string | Buffer, env: NodeJS.ProcessEnv = {}, ext = 'yaml'): ConfigError {
  try {
    loadConfig(file(text, ext), env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error(`expected a ConfigError for:\n${String(text).slice(0, 200)}`);
}

const pathsOf = (e: ConfigError): string[] => e.issues.map((i) => i.path);

describe('config files that are not config files', () => {
  test('empty, blank and comment-only files name every required section', () => {
    for (const text of ['', '   \n\n', '# nothing here\n', '---\n']) {
      expect(pathsOf(errorOf(text))).toEqual(expect.arrayContaining(['kafka', 'cognito', 'mapping']));
    }
  });

  test('not YAML, not JSON, binary garbage', () => {
    expect(errorOf('kafka: [brokers\n').message).toMatch(/is not valid YAML/);
    expect(errorOf('kafka:\n\t- tab indented\n').message).toMatch(/is not valid YAML/);
    expect(errorOf('{"kafka": {"brokers": ["k:1"],}}', {}, 'json').message).toMatch(/is not valid JSON/);
    expect(errorOf(Buffer.from([0x00, 0xff, 0xfe, 0x13, 0x37, 0x80, 0x0a, 0x7f])).issues.length).toBeGreaterThan(0);
    expect(errorOf('a: 1\na: 2\n').message).toMatch(/is not valid YAML.*(unique|Map keys)/i);
  });

  test('a document of the wrong shape is named at the root', () => {
    for (const text of ['just a string', '- a\n- b\n', '42', 'true', 'null']) {
      const e = errorOf(text);
      expect(e.issues[0]!.path).toMatch(/^\(root\)$|^kafka$/);
    }
  });

  test('hostile documents: an alias bomb, deep nesting, __proto__ keys', () => {
    const bomb = [
      'a: &a [x, x, x, x, x, x, x, x, x]',
      ...'bcdefgh'.split('').map((c, i) => `${c}: &${c} [${Array(9).fill(`*${'abcdefgh'[i]}`).join(', ')}]`),
    ].join('\n');
    expect(errorOf(bomb).message).toMatch(/not valid YAML.*(alias|resource exhaustion)/i);
    const deepJson = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    expect(errorOf(deepJson, {}, 'json').message).toMatch(/nested deeper than/);
    expect(errorOf(`${VALID}\nlog: ${'{x: '.repeat(50)}1${'}'.repeat(50)}\n`).message).toMatch(/nested deeper than/);
    const proto = errorOf(`${VALID}\n__proto__: { polluted: true }\n`);
    expect(proto.message).toContain('__proto__');
    const protoJson = errorOf(
      JSON.stringify({ kafka: { brokers: ['k:1'], topics: ['t'] } }).replace(
        /}$/,
        ', "__proto__": {"polluted": true}}',
      ),
      {},
      'json',
    );
    expect(protoJson.issues.length).toBeGreaterThan(0);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  test('a directory, a missing file and an unreadable path are named', () => {
    const sub = join(dir, 'a-directory.yaml');
    mkdirSync(sub);
    expect(() => loadConfig(sub, {})).toThrow(/cannot read config file .*a-directory\.yaml/);
    expect(() => loadConfig(join(dir, 'missing.yaml'), {})).toThrow(/cannot read config file .*missing\.yaml/);
  });
});

describe('wrong types and unknown keys name the path', () => {
  const cases: [string, string, RegExp][] = [
    ['kafka:\n  brokers: "k1:9092"\n  topics: [t]', 'kafka.brokers', /expected array/],
    ['kafka:\n  brokers: ["k1"]\n  topics: [t]', 'kafka.brokers[0]', /host:port/],
    ['kafka:\n  brokers: []\n  topics: [t]', 'kafka.brokers', /too small|>=1/i],
    ['kafka:\n  brokers: ["k:1"]\n  topics: [t]\n  fromBeginning: "yes"', 'kafka.fromBeginning', /expected boolean/],
    ['kafka:\n  brokers: ["k:1"]\n  topics: [t]\n  ssl: maybe', 'kafka.ssl', /./],
    [
      'kafka:\n  brokers: ["k:1"]\n  topics: [t]\n  sasl: { mechanism: gssapi }',
      'kafka.sasl.mechanism',
      /discriminator|expected/i,
    ],
    [
      'kafka:\n  brokers: ["k:1"]\n  topics: [t]\n  sasl: { mechanism: plain, username: u }',
      'kafka.sasl.password',
      /expected string/,
    ],
    [
      'kafka:\n  brokers: ["k:1"]\n  topics: [t]\n  sessionTimeoutMs: 10',
      'kafka.sessionTimeoutMs',
      /too small|>=6000/i,
    ],
    ['ops: { port: 70000 }', 'ops.port', /too big|<=65535/i],
    ['ops: { port: "metrics" }', 'ops.port', /expected number/],
    ['ops: { host: "" }', 'ops.host', /every interface/],
    ['format: protobuf', 'format', /expected one of/],
    ['cognito: { userPoolId: pool, region: r }', 'cognito.userPoolId', /<region>_<id>/],
    ['cognito: { userPoolId: a_b1, region: r, quotaShare: 2 }', 'cognito.quotaShare', /too big|<=1/i],
    [
      'cognito: { userPoolId: a_b1, region: r, rates: { UserUpdate: -1 } }',
      'cognito.rates.UserUpdate',
      /too small|>0/i,
    ],
    ['cognito: { userPoolId: a_b1, region: r, endpoint: "not a url" }', 'cognito.endpoint', /url/i],
    ['processing: { concurrency: 0 }', 'processing.concurrency', /too small|>=1/i],
    ['dlq: { tolerance: some }', 'dlq.tolerance', /expected one of/],
    ['log: { level: verbose }', 'log.level', /expected one of/],
    [
      'legacyDatabase: { url: "sqlserver://db/legacy" }',
      'legacyDatabase.url',
      /postgres:\/\/.*mysql:\/\/.*mariadb:\/\//,
    ],
    ['schemaRegistry: { url: "registry" }', 'schemaRegistry.url', /url/i],
    ['kafak: { brokers: ["k:1"] }', '(root)', /"kafak"/],
    ['kafka:\n  brokers: ["k:1"]\n  topics: [t]\n  bokers: ["k:2"]', 'kafka', /"bokers"/],
    ['cognito: { userPoolId: a_b1, region: r, rates: { UserDelete: 5 } }', 'cognito.rates', /"UserDelete"/],
    // Read only when Kafka connects: checked up front so validate-config catches it.
    [
      'kafka:\n  brokers: ["k:1"]\n  topics: [t]\n  ssl: { caFile: /nonexistent/ca.pem }',
      'kafka.ssl.caFile',
      /cannot read \/nonexistent\/ca\.pem: ENOENT/,
    ],
  ];
  test.each(cases.map(([override, path, message]) => ({ override, path, message })))(
    '$path',
    ({ override, path, message }) => {
      // The override replaces (or adds) whole top-level sections of a valid config.
      const text = YAML.stringify({ ...(YAML.parse(VALID) as object), ...(YAML.parse(override) as object) });
      const e = errorOf(text);
      expect(e.issues).toContainEqual({ path, message: expect.stringMatching(message) });
    },
  );
});

describe('environment overrides with bad values name the path and the variable', () => {
  const issue = (env: NodeJS.ProcessEnv): { path: string; message: string }[] => errorOf(VALID, env).issues;

  test('a value of the wrong type', () => {
    expect(issue({ COGNITO_SYNC_OPS__PORT: 'metrics' })).toContainEqual({
      path: 'ops.port',
      message: expect.stringMatching(/expected number.*\(set by COGNITO_SYNC_OPS__PORT\)/),
    });
    expect(issue({ COGNITO_SYNC_COGNITO__QUOTA_SHARE: '-1' })).toContainEqual({
      path: 'cognito.quotaShare',
      message: expect.stringContaining('COGNITO_SYNC_COGNITO__QUOTA_SHARE'),
    });
    expect(issue({ COGNITO_SYNC_KAFKA__FROM_BEGINNING: 'yes' })).toContainEqual({
      path: 'kafka.fromBeginning',
      message: expect.stringContaining('COGNITO_SYNC_KAFKA__FROM_BEGINNING'),
    });
    expect(issue({ COGNITO_SYNC_COGNITO: '5' })).toContainEqual({
      path: 'cognito',
      message: expect.stringMatching(/expected object.*COGNITO_SYNC_COGNITO\)/),
    });
  });

  test('empty values', () => {
    expect(issue({ COGNITO_SYNC_KAFKA__BROKERS: '' })[0]!.path).toBe('kafka.brokers');
    expect(issue({ COGNITO_SYNC_KAFKA__GROUP_ID: '' })).toContainEqual({
      path: 'kafka.groupId',
      message: expect.stringContaining('COGNITO_SYNC_KAFKA__GROUP_ID'),
    });
    expect(issue({ COGNITO_SYNC_OPS__HOST: '' })).toContainEqual({
      path: 'ops.host',
      message: expect.stringContaining('every interface'),
    });
  });

  test('a misspelt variable is an unknown key, naming the variable', () => {
    expect(issue({ COGNITO_SYNC_KAFKA_BROKERS: 'k:1' })).toContainEqual({
      path: '(root)',
      message: expect.stringMatching(/"kafkaBrokers".*COGNITO_SYNC_KAFKA_BROKERS/),
    });
    expect(issue({ COGNITO_SYNC_KAFKA__BROKER: 'k:1' })).toContainEqual({
      path: 'kafka',
      message: expect.stringMatching(/"broker".*COGNITO_SYNC_KAFKA__BROKER/),
    });
  });

  test('a variable naming a field inside a list is refused instead of silently ignored', () => {
    const e = errorOf(VALID, { COGNITO_SYNC_KAFKA__BROKERS__HOST: 'k2:9092' });
    expect(e.issues[0]!.path).toBe('kafka.brokers');
    expect(e.message).toMatch(
      /COGNITO_SYNC_KAFKA__BROKERS__HOST: kafka.brokers is a list: set it whole \(COGNITO_SYNC_KAFKA__BROKERS=/,
    );
  });

  test('text that happens to parse as JSON stays text where the config wants text', () => {
    const config = loadConfig(file(`${VALID}\n`), {
      COGNITO_SYNC_KAFKA__GROUP_ID: '123',
      COGNITO_SYNC_KAFKA__CLIENT_ID: 'true',
      COGNITO_SYNC_KAFKA__SASL__MECHANISM: 'scram-sha-512',
      COGNITO_SYNC_KAFKA__SASL__USERNAME: 'null',
      COGNITO_SYNC_KAFKA__SASL__PASSWORD: '12345678',
      COGNITO_SYNC_KAFKA__TOPICS: 'legacy.public.users',
      COGNITO_SYNC_OPS__PORT: '9500',
    });
    expect(config.kafka.groupId).toBe('123');
    expect(config.kafka.clientId).toBe('true');
    expect(config.kafka.sasl).toEqual({ mechanism: 'scram-sha-512', username: 'null', password: '12345678' });
    expect(config.kafka.topics).toEqual(['legacy.public.users']);
    expect(config.ops.port).toBe(9500);
  });
});

describe('secrets are never echoed', () => {
  test('a bad config with a SASL password or a database URL does not print them', () => {
    const secret = 'S3cr3t-pa55word';
    const cases = [
      errorOf(
        `${VALID.replace('brokers: ["k1:9092"]', `brokers: ["k1:9092"]\n  sasl: { mechanism: plain, username: u, password: ${secret}, extra: 1 }`)}\n`,
      ),
      errorOf(`${VALID}\nlegacyDatabase: { url: "sqlserver://u:${secret}@db/legacy" }\n`),
      errorOf(VALID, { COGNITO_SYNC_KAFKA__SASL__PASSWORD: secret }), // no mechanism: invalid
      errorOf(VALID, {
        COGNITO_SYNC_SCHEMA_REGISTRY__PASSWORD: secret,
        COGNITO_SYNC_SCHEMA_REGISTRY__URL: `http://u:${secret}`,
      }),
    ];
    for (const e of cases) {
      expect(e.message).not.toContain(secret);
      expect(JSON.stringify(e.issues)).not.toContain(secret);
    }
  });
});

describe('through the CLI', () => {
  const bin = join(REPO, 'bin/cognito-sync.js');
  const validate = (path: string, env: NodeJS.ProcessEnv = {}, json = false) =>
    spawnSync(process.execPath, [bin, 'validate-config', '--config', path, ...(json ? ['--json'] : [])], {
      encoding: 'utf8',
      env: { ...process.env, ...env },
    });

  test('validate-config: exit 2 naming each bad path, no stack trace; --json lists the issues', () => {
    const bad = file(`${VALID}\nops: { port: "x" }\nlog: { level: loud }\n`);
    const out = validate(bad);
    expect(out.status).toBe(2);
    expect(out.stderr).toContain('ops.port:');
    expect(out.stderr).toContain('log.level:');
    expect(out.stderr).not.toMatch(/\n\s+at /);
    const json = validate(bad, {}, true);
    expect(json.status).toBe(2);
    expect(JSON.parse(json.stdout)).toMatchObject({
      valid: false,
      issues: expect.arrayContaining([expect.objectContaining({ path: 'ops.port' })]),
    });
  });

  test('validate-config: an env override with a bad value, and a hostile file', () => {
    const good = file(`${VALID}\n`);
    const env = validate(good, { COGNITO_SYNC_PROCESSING__CONCURRENCY: 'lots' });
    expect(env.status).toBe(2);
    expect(env.stderr).toMatch(/processing\.concurrency: .*COGNITO_SYNC_PROCESSING__CONCURRENCY/);
    const deep = validate(file(`${'['.repeat(100_000)}${']'.repeat(100_000)}`, 'json'));
    expect(deep.status).toBe(2);
    expect(deep.stderr).toMatch(/nested deeper than/);
  });
});
