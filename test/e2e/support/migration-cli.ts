// Runs a cognito-sync command in this process (no build needed) and captures what it prints.
import { jest } from '@jest/globals';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../../../src/cli/main.js';
import { REPO, type StackEnv } from './stack.js';

export async function runCli(args: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
    return true;
  });
  process.exitCode = undefined;
  try {
    const code = await main(['node', 'cognito-sync', ...args]);
    return { code, out };
  } finally {
    write.mockRestore();
    process.exitCode = undefined;
  }
}

/** A config file for the migration commands against one pool and one legacy table. */
export function writeMigrationConfig(
  env: StackEnv,
  name: string,
  o: { poolId: string; table?: string; rolesTable?: string; mapping?: string; endpoint?: string },
): string {
  const path = join(REPO, '.stack', `${name}.json`);
  writeFileSync(
    path,
    JSON.stringify({
      kafka: { brokers: env.KAFKA_BROKERS.split(','), topics: ['legacy.public.users'] },
      cognito: {
        userPoolId: o.poolId,
        region: env.COGNITO_REGION,
        endpoint: o.endpoint ?? env.COGNITO_ENDPOINT,
        rates: { UserCreation: 200, UserUpdate: 200, UserRead: 500, UserList: 100, UserResourceUpdate: 200 },
      },
      mapping: o.mapping ?? join(REPO, 'examples/mapping.yaml'),
      legacyDatabase: {
        url: env.PG_URL,
        ...(o.table ? { table: o.table } : {}),
        ...(o.rolesTable ? { rolesTable: o.rolesTable } : {}),
        pageSize: 7,
      },
      log: { level: 'warn' },
    }),
  );
  return path;
}
