// The MariaDB side of the local stack (scripts/stack/up.sh, component mariadb): its URL from
// $STACK_DIR/env.json, a mysql2 pool for planting rows, and a migration config pointing at it.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { REPO, type StackEnv, stackDir } from './stack.js';

export interface MariadbEnv extends StackEnv {
  MARIADB_URL: string;
}

export function mariadbEnv(env: StackEnv): MariadbEnv {
  const url = (env as Partial<MariadbEnv>).MARIADB_URL;
  if (!url)
    throw new Error(
      'the stack has no MariaDB (no MARIADB_URL in env.json): run scripts/stack/up.sh, which starts the mariadb component by default',
    );
  return { ...env, MARIADB_URL: url };
}

export function mariadbPool(env: Pick<MariadbEnv, 'MARIADB_URL'>): mysql.Pool {
  // bigNumberStrings: the tests compare exact BIGINT values.
  return mysql.createPool({
    uri: env.MARIADB_URL,
    connectionLimit: 4,
    charset: 'utf8mb4',
    supportBigNumbers: true,
    bigNumberStrings: true,
    timezone: 'Z',
  });
}

/** A config for the migration commands against one pool and MariaDB tables. */
export function writeMariadbConfig(
  env: MariadbEnv,
  name: string,
  o: { poolId: string; table: string; rolesTable?: string },
): string {
  const path = join(stackDir(), `${name}.json`);
  writeFileSync(
    path,
    JSON.stringify({
      kafka: { brokers: env.KAFKA_BROKERS.split(','), topics: ['legacy.public.users'] },
      cognito: {
        userPoolId: o.poolId,
        region: env.COGNITO_REGION,
        endpoint: env.COGNITO_ENDPOINT,
        rates: { UserCreation: 200, UserUpdate: 200, UserRead: 500, UserList: 100, UserResourceUpdate: 200 },
      },
      mapping: join(REPO, 'examples/mapping.yaml'),
      legacyDatabase: {
        url: env.MARIADB_URL,
        table: o.table,
        ...(o.rolesTable ? { rolesTable: o.rolesTable } : {}),
        pageSize: 7,
      },
      log: { level: 'warn' },
    }),
  );
  return path;
}
