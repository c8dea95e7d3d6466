// The MySQL/MariaDB adapter's pure parts: which URL opens which adapter, the config error for
// any other URL, and column values shaped as the PostgreSQL adapter shapes them (the real
// database round trip is test/e2e/migration-mariadb.e2e.test.ts).
import { describe, expect, test } from '@jest/globals';
import type { TypeCastField } from 'mysql2';
import { compileConfig } from '../../src/config/load-config.js';
import { ConfigError } from '../../src/errors.js';
import { legacyDialectOf } from '../../src/adapters/legacy-db/legacy-url.js';
import { legacyTypeCast, quoteQualified } from '../../src/adapters/legacy-db/mysql/mysql-values.js';
import { lambdaConfigFromEnv } from '../../src/lambda/lambda-config.js';

const base = {
  kafka: { brokers: ['localhost:9092'], topics: ['legacy.public.users'] },
  cognito: { userPoolId: 'us-east-1_abc123', region: 'us-east-1' },
  mapping: 'mapping.yaml',
};

/** A column value as mysql2 hands it to typeCast: the text protocol's string. */
const cast = (type: string, text: string | null, length = 0): unknown =>
  legacyTypeCast(
    { type, length, string: () => text, buffer: () => null, geometry: () => null } as unknown as TypeCastField,
    () => `next:${text}`,
  );

describe('legacy database URL', () => {
  test('the scheme picks the adapter', () => {
    expect(legacyDialectOf('postgres://u:p@h/db')).toBe('postgres');
    expect(legacyDialectOf('postgresql://u:p@h/db')).toBe('postgres');
    expect(legacyDialectOf('mysql://u:p@h:3306/db')).toBe('mysql');
    expect(legacyDialectOf('mariadb://u:p@h/db')).toBe('mysql');
    expect(legacyDialectOf('sqlserver://h/db')).toBeUndefined();
  });

  test('any other scheme is a config error naming legacyDatabase.url, without echoing the URL', () => {
    let error: unknown;
    try {
      compileConfig({ ...base, legacyDatabase: { url: 'oracle://scott:tiger@db/legacy' } });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues).toEqual([
      { path: 'legacyDatabase.url', message: 'expected a postgres://, postgresql://, mysql:// or mariadb:// URL' },
    ]);
    expect(String((error as Error).message)).not.toContain('tiger');
    expect(
      compileConfig({ ...base, legacyDatabase: { url: 'mariadb://app:pw@db:3306/legacy' } }).legacyDatabase?.url,
    ).toMatch(/^mariadb:/);
  });

  test('the Lambda refuses an unknown scheme by its variable name', async () => {
    await expect(lambdaConfigFromEnv({ LEGACY_DATABASE_URL: 'mssql://x', MAPPING_JSON: '{}' })).rejects.toMatchObject({
      issues: [
        { path: 'LEGACY_DATABASE_URL', message: 'expected a postgres://, postgresql://, mysql:// or mariadb:// URL' },
      ],
    });
  });
});

describe('MySQL column values come out as PostgreSQL values do', () => {
  test('TINYINT(1) is a boolean; wider TINYINTs stay numbers', () => {
    expect(cast('TINY', '1', 1)).toBe(true);
    expect(cast('TINY', '0', 1)).toBe(false);
    expect(cast('TINY', null, 1)).toBeNull();
    expect(cast('TINY', '7', 4)).toBe('next:7');
  });

  test('BIGINT is a number while exact, then a bigint: never a rounded double', () => {
    expect(cast('LONGLONG', '42')).toBe(42);
    expect(cast('LONGLONG', '9007199254740993')).toBe(9007199254740993n);
    expect(cast('LONGLONG', '-9223372036854775808')).toBe(-9223372036854775808n);
  });

  test('DECIMAL stays decimal text; DATE stays YYYY-MM-DD', () => {
    expect(cast('NEWDECIMAL', '123456789012.50')).toBe('123456789012.50');
    expect(cast('DATE', '1990-02-28')).toBe('1990-02-28');
  });

  test('DATETIME is an ISO local time, TIMESTAMP an ISO instant, fractions trimmed as Postgres prints them', () => {
    expect(cast('DATETIME', '2024-05-01 10:00:00.500000')).toBe('2024-05-01T10:00:00.5');
    expect(cast('DATETIME', '2024-05-01 10:00:00.000000')).toBe('2024-05-01T10:00:00');
    expect(cast('DATETIME', '2024-05-01 10:00:00')).toBe('2024-05-01T10:00:00');
    expect(cast('TIMESTAMP', '2024-05-01 10:00:00.123400')).toBe('2024-05-01T10:00:00.1234Z');
    expect(cast('TIMESTAMP', null)).toBeNull();
  });

  test('identifiers are backquoted part by part', () => {
    expect(quoteQualified('legacy.us`ers')).toBe('`legacy`.`us``ers`');
  });
});
