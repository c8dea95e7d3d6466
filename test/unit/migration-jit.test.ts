// The two halves of just-in-time migration that need no stack: the Lambda handler (over an
// in-memory LegacyDatabase) and the grace period that keeps a racing update from being lost.
import { beforeAll, describe, expect, test } from '@jest/globals';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { err, ok, type CognitoCall, type CurrentUser, type Row, type UserIntent } from '../../src/core/types.js';
import type { CognitoGateway } from '../../src/adapters/cognito/cognito-gateway.js';
import type { FindOptions, LegacyDatabase, UserLookup } from '../../src/adapters/legacy-db/legacy-database.js';
import { compileMapping, loadMapping, type CompiledMapping } from '../../src/pipeline/map/index.js';
import { coalesce, planOptionsFromMapping, planUser } from '../../src/pipeline/plan/index.js';
import { createUserApplier, planningFromMapping } from '../../src/runtime/pipeline-factory.js';
import {
  createMigrationHandler,
  MigrationRefused,
  resolveSignInName,
  type UserMigrationEvent,
} from '../../src/lambda/user-migration.js';
import { JitGraceApplier } from '../../src/migration/jit-grace-applier.js';

let mapping: CompiledMapping;
const HASH = bcrypt.hashSync('old-password', 4);
const SNAPSHOT = `${'0'.repeat(16)}${(0x1234).toString(16).padStart(16, '0')}`;

const rows: Row[] = [
  {
    id: 7,
    username: 'Anna.M',
    email: 'Anna@Example.com',
    email_verified: true,
    phone: null,
    given_name: 'Anna',
    family_name: 'M',
    locale: 'de-DE',
    status: 'active',
    loyalty_tier: 'gold',
    marketing_opt_in: true,
    legacy_customer_no: '123',
    password_hash: HASH,
  },
  {
    id: 8,
    username: 'bo',
    email: 'bo@example.com',
    email_verified: false,
    phone: null,
    given_name: 'Bo',
    family_name: null,
    locale: null,
    status: 'suspended',
    loyalty_tier: null,
    marketing_opt_in: false,
    legacy_customer_no: null,
    password_hash: HASH,
  },
  { id: 9, username: 'dup1', email: 'same@example.com', status: 'active', password_hash: HASH },
  { id: 10, username: 'dup2', email: 'SAME@example.com', status: 'active', password_hash: HASH },
];

/** The port, over an array: lookups as the pg adapter does them (case-insensitive logins). */
const memoryDb: LegacyDatabase = {
  keyColumns: async () => ['id'],
  columnNames: async () => new Set(Object.keys(rows[0]!)),
  estimateUsers: async () => rows.length,
  async *scanUsers() {},
  async findUser(lookup: UserLookup, options: FindOptions) {
    const hits = rows.filter((r) =>
      lookup.by === 'key'
        ? String(r.id) === String(lookup.key.id)
        : lookup.columns.some((c) => String(r[c] ?? '').toLowerCase() === lookup.value.toLowerCase()),
    );
    if (hits.length === 0) return err('not-found');
    if (hits.length > 1) return err('ambiguous');
    const { password_hash, ...row } = hits[0]!;
    const picked = Object.fromEntries(Object.entries(row).filter(([k]) => k === 'id' || options.columns.includes(k)));
    return ok({
      row: picked,
      secret: options.secretColumn ? (password_hash as string) : null,
      snapshotVersion: SNAPSHOT,
    });
  },
  rolesOf: async () => new Map(),
  close: async () => undefined,
};

const event = (userName: string, password?: string, trigger = 'UserMigration_Authentication'): UserMigrationEvent => ({
  version: '1',
  triggerSource: trigger,
  userPoolId: 'p',
  userName,
  request: password === undefined ? {} : { password },
  response: {},
});

beforeAll(async () => {
  mapping = compileMapping(await loadMapping(join(import.meta.dirname, '../../examples/mapping.yaml')));
});

describe('user migration handler', () => {
  const logs: Record<string, unknown>[] = [];
  const handler = () =>
    createMigrationHandler({
      db: memoryDb,
      mapping,
      passwordColumn: 'password_hash',
      loginColumns: ['username', 'email'],
      log: (e) => logs.push(e),
    });

  test('the right password migrates the user CONFIRMED with the mapped attributes and the snapshot version, silently', async () => {
    const out = await handler()(event('legacy_7', 'old-password'));
    expect(out.response).toEqual({
      userAttributes: {
        email: 'anna@example.com',
        email_verified: 'true',
        given_name: 'Anna',
        family_name: 'M',
        name: 'Anna M',
        locale: 'de-DE',
        preferred_username: 'anna.m',
        'custom:legacy_id': '7',
        'custom:loyalty_tier': 'gold',
        'custom:marketing_opt_in': 'true',
        'custom:customer_no': '123',
        'custom:cdc_version': SNAPSHOT,
      },
      finalUserStatus: 'CONFIRMED',
      messageAction: 'SUPPRESS',
    });
  });

  test("the mapping's forceAliasCreation reaches the migration response, as it reaches the sync's AdminCreateUser", async () => {
    const forced = createMigrationHandler({
      db: memoryDb,
      mapping: { ...mapping, spec: { ...mapping.spec, forceAliasCreation: true } },
      passwordColumn: 'password_hash',
      loginColumns: ['username', 'email'],
      log: () => undefined,
    });
    expect((await forced(event('legacy_7', 'old-password'))).response).toMatchObject({ forceAliasCreation: true });
    expect((await handler()(event('legacy_7', 'old-password'))).response).not.toHaveProperty('forceAliasCreation');
  });

  test('refusals: wrong password, unknown user, disabled account, a login name Cognito would create under the wrong username', async () => {
    const h = handler();
    const reasons: string[] = [];
    for (const e of [
      event('legacy_7', 'wrong'),
      event('legacy_404', 'x'),
      event('legacy_8', 'old-password'),
      event('Anna.M', 'old-password'),
      event('anna@EXAMPLE.com', 'old-password'),
      event('same@example.com', 'x'),
    ]) {
      await h(e).then(
        () => reasons.push('migrated'),
        (error: unknown) => reasons.push(error instanceof MigrationRefused ? error.reason : String(error)),
      );
    }
    expect(reasons).toEqual(['wrong-password', 'not-found', 'disabled', 'not-canonical', 'not-canonical', 'ambiguous']);
  });

  test('a user outside the migration cohort is refused like an unknown one (the app falls back to the legacy login); inside, migrated', async () => {
    const withCohort = (cohort: { percent?: number; allow?: string[] }) =>
      createMigrationHandler({
        db: memoryDb,
        mapping: compileMapping({ ...mapping.spec, cohort }),
        passwordColumn: 'password_hash',
        loginColumns: ['username', 'email'],
        log: () => undefined,
      });
    const refused = await withCohort({ percent: 0 })(event('legacy_7', 'old-password')).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(MigrationRefused);
    expect((refused as MigrationRefused).reason).toBe('outside-cohort');
    expect((refused as MigrationRefused).message).toBe('Incorrect username or password.');
    const migrated = await withCohort({ percent: 0, allow: ['legacy_7'] })(event('legacy_7', 'old-password'));
    expect(migrated.response.finalUserStatus).toBe('CONFIRMED');
  });

  test('forgot-password migrates without a password, to RESET_REQUIRED', async () => {
    const out = await handler()(event('legacy_7', undefined, 'UserMigration_ForgotPassword'));
    expect(out.response.finalUserStatus).toBe('RESET_REQUIRED');
  });

  test('resolveSignInName maps a legacy login or email, case-insensitively, to the Cognito username', async () => {
    const deps = { db: memoryDb, mapping, passwordColumn: 'password_hash', loginColumns: ['username', 'email'] };
    expect(await resolveSignInName(deps, 'anna.m')).toEqual({ ok: true, value: 'legacy_7' });
    expect(await resolveSignInName(deps, ' ANNA@example.com ')).toEqual({ ok: true, value: 'legacy_7' });
    expect(await resolveSignInName(deps, 'legacy_7')).toEqual({ ok: true, value: 'legacy_7' });
    expect(await resolveSignInName(deps, 'same@example.com')).toEqual({ ok: false, error: 'ambiguous' });
  });

  test('an email-as-username pool: the typed email finds the row, the answer carries the legacy key', async () => {
    const emailMapping = compileMapping(
      await loadMapping(join(import.meta.dirname, '../../examples/mapping-email-username.yaml')),
    );
    const h = createMigrationHandler({
      db: memoryDb,
      mapping: emailMapping,
      passwordColumn: 'password_hash',
      loginColumns: ['username', 'email'],
      log: () => undefined,
    });
    const out = await h(event('ANNA@example.com', 'old-password'));
    expect(out.response.userAttributes).toMatchObject({
      email: 'anna@example.com',
      email_verified: 'true',
      'custom:legacy_id': '7',
      'custom:cdc_version': SNAPSHOT,
    });
    const reasons: string[] = [];
    // The mapping's key or a legacy login is not an email: Cognito would refuse it as username anyway.
    for (const e of [event('7', 'old-password'), event('Anna.M', 'old-password'), event('same@example.com', 'x')])
      await h(e).then(
        () => reasons.push('migrated'),
        (error: unknown) => reasons.push(error instanceof MigrationRefused ? error.reason : String(error)),
      );
    expect(reasons).toEqual(['not-found', 'not-found', 'ambiguous']);
  });

  test('no log line carries the password, the hash or the sign-in name', () => {
    const text = JSON.stringify(logs);
    for (const secret of ['old-password', HASH, 'anna@EXAMPLE.com', 'Anna.M', 'legacy_7'])
      expect(text).not.toContain(secret);
    expect(logs.some((l) => l.reason === 'wrong-password' && l.family === 'bcrypt')).toBe(true);
  });
});

/** A Cognito where the user appears (the Lambda's creation) at a chosen moment. */
class RacingPool implements CognitoGateway {
  user: CurrentUser | null = null;
  calls: CognitoCall[] = [];
  async getUser(): Promise<CurrentUser | null> {
    return this.user && { ...this.user, attributes: { ...this.user.attributes } };
  }
  async execute(call: CognitoCall): Promise<void> {
    this.calls.push(call);
    if (call.api === 'AdminUpdateUserAttributes') Object.assign(this.user!.attributes, call.attributes);
  }
}

describe('JitGraceApplier', () => {
  const update = (sourceTsMs: number): UserIntent => ({
    kind: 'upsert',
    user: { username: 'legacy_7', attributes: { given_name: 'After' }, enabled: true },
    version: `${(500).toString(16).padStart(16, '0')}${(600).toString(16).padStart(16, '0')}`,
    origin: { topic: 't', partition: 0, offset: '1' },
    sourceTsMs,
  });
  const applier = (pool: RacingPool, now: { t: number }, onSleep: () => void) => {
    const planning = planningFromMapping(compileMapping({ ...mapping.spec, createPolicy: 'existing-only' }));
    const applier = createUserApplier(planning, { gateway: pool, stateCapacity: 100 });
    const { plan, coalesce: fold, comparedAttributes } = planning;
    return new JitGraceApplier(
      { gateway: pool, plan, coalesce: fold, state: applier.state, manageGroups: false, comparedAttributes },
      {
        graceMs: 10_000,
        wallNow: () => now.t,
        clock: {
          now: () => now.t,
          sleep: async (ms) => {
            now.t += ms;
            onSleep();
          },
        },
      },
    );
  };

  test('a fresh update skipped because the user does not exist yet is applied once the just-in-time creation lands', async () => {
    const pool = new RacingPool();
    const now = { t: 1_000_000 };
    // While the sync waits, the Lambda's creation (data read before the update) completes.
    const a = applier(
      pool,
      now,
      () =>
        (pool.user = {
          username: 'legacy_7',
          attributes: { given_name: 'Before', 'custom:cdc_version': SNAPSHOT },
          enabled: true,
          version: SNAPSHOT,
        }),
    );
    const report = await a.apply('legacy_7', [update(now.t - 500)]);
    expect(now.t).toBe(1_000_000 - 500 + 10_000);
    expect(report.calls).toEqual(['AdminUpdateUserAttributes']);
    expect(pool.user!.attributes.given_name).toBe('After');
  });

  test('an old event is skipped at once: no creation can still be racing it', async () => {
    const pool = new RacingPool();
    const now = { t: 1_000_000 };
    let slept = false;
    const report = await applier(pool, now, () => (slept = true)).apply('legacy_7', [update(now.t - 60_000)]);
    expect(slept).toBe(false);
    expect(report.skips).toEqual(['not-existing']);
    expect(pool.calls).toEqual([]);
  });

  test('if the user still does not exist after the grace period, the skip stands', async () => {
    const pool = new RacingPool();
    const now = { t: 1_000_000 };
    const report = await applier(pool, now, () => undefined).apply('legacy_7', [update(now.t)]);
    expect(report.skips).toEqual(['not-existing']);
    expect(report.reads).toBe(2);
  });
});
