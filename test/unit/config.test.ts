import { describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { applyEnvOverrides, compileConfig, loadConfig } from '../../src/config/load-config.js';
import { ConfigError } from '../../src/errors.js';

const valid = {
  kafka: { brokers: ['localhost:9092'], topics: ['legacy.public.users'] },
  cognito: { userPoolId: 'us-east-1_abc123', region: 'us-east-1' },
  mapping: 'mapping.yaml',
};

function issuesOf(raw: unknown): { path: string; message: string }[] {
  try {
    compileConfig(raw);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).issues;
  }
  throw new Error('expected a ConfigError');
}

describe('config', () => {
  test('defaults fill in and the budget is the configured share of the account quota', () => {
    const config = compileConfig(valid);
    expect(config.kafka.groupId).toBe('cognito-sync');
    expect(config.dlq).toEqual({ topic: 'cognito-sync.dlq', tolerance: 'all' });
    expect(config.ops.host).toBe('127.0.0.1');
    expect(config.budget).toEqual({
      UserCreation: 25,
      UserUpdate: 12.5,
      UserResourceUpdate: 12.5,
      UserRead: 60,
      UserList: 15,
    });
  });

  test('several instances split the budget instead of multiplying it', () => {
    const config = compileConfig({ ...valid, cognito: { ...valid.cognito, quotaShare: 0.8, instances: 4 } });
    expect(config.budget.UserUpdate).toBeCloseTo(5);
    expect(config.budget.UserCreation).toBeCloseTo(10);
  });

  test('a bad field is named by its path', () => {
    expect(issuesOf({ ...valid, kafka: { ...valid.kafka, brokers: ['localhost'] } })).toEqual([
      { path: 'kafka.brokers[0]', message: 'expected host:port' },
    ]);
    expect(issuesOf({ ...valid, cognito: { ...valid.cognito, quotaShare: 2 } })[0]!.path).toBe('cognito.quotaShare');
    expect(issuesOf({ ...valid, dlq: { tolerance: 'some' } })[0]!.path).toBe('dlq.tolerance');
    expect(issuesOf({ ...valid, kafka: { ...valid.kafka, bokers: [] } }).map((i) => i.path)).toContain('kafka');
  });

  test('environment variables override the file, including lists and numbers', () => {
    const raw = applyEnvOverrides(valid, {
      COGNITO_SYNC_KAFKA__BROKERS: 'b1:9092,b2:9092',
      COGNITO_SYNC_COGNITO__USER_POOL_ID: 'eu-west-1_XYZ',
      COGNITO_SYNC_COGNITO__QUOTA_SHARE: '0.25',
    });
    const config = compileConfig(raw);
    expect(config.kafka.brokers).toEqual(['b1:9092', 'b2:9092']);
    expect(config.cognito.userPoolId).toBe('eu-west-1_XYZ');
    expect(config.budget.UserCreation).toBe(12.5);
  });

  test('the mapping path is resolved next to the config file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    const file = join(dir, 'sync.yaml');
    writeFileSync(
      file,
      'kafka:\n  brokers: ["k:9092"]\n  topics: [t]\ncognito:\n  userPoolId: us-east-1_a1\n  region: us-east-1\nmapping: ./m.yaml\n',
    );
    expect(loadConfig(file, {}).mappingPath).toBe(join(dir, 'm.yaml'));
  });

  test('the CLI reports a bad config field in one line, exit code 2, no stack trace', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(
      file,
      'kafka:\n  brokers: ["k:9092"]\n  topics: [t]\ncognito:\n  userPoolId: not-a-pool\n  region: us-east-1\nmapping: ./m.yaml\n',
    );
    const bin = resolve(import.meta.dirname, '../../bin/cognito-sync.js');
    const out = spawnSync(process.execPath, [bin, 'validate-config', '--config', file], { encoding: 'utf8' });
    expect(out.status).toBe(2);
    expect(out.stderr).toContain('cognito.userPoolId: expected <region>_<id>');
    expect(out.stderr).not.toMatch(/\n\s+at /);
  });
});
