// GTID and binlog file/pos versions in one source epoch cannot be ordered (GTIDs turned on or
// off, or another connector, without a new epoch). The sync is never silently wrong there: an
// update is compared by state and the stored version stays; a delete or a re-creation over a
// remembered delete is skipped; each such event is counted.
import { describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import type { CurrentUser, DesiredUser, UserIntent } from '../../src/core/types.js';
import {
  compareVersions,
  encodeMysqlGtidVersion,
  encodeMysqlVersion,
  encodePostgresVersion,
  NO_VERSION,
  orderOf,
  withEpoch,
} from '../../src/pipeline/decode/version.js';
import { UserApplier } from '../../src/pipeline/apply/user-applier.js';
import { PoolState } from '../../src/pipeline/apply/pool-state.js';
import { coalesce } from '../../src/pipeline/plan/coalesce.js';
import { encodeGroupStates } from '../../src/pipeline/plan/group-versions.js';
import { planUser } from '../../src/pipeline/plan/plan-user.js';
import { planOptions } from './support/plan-options.js';
import { InMemoryCognito } from '../../bench/support/in-memory-cognito.js';

const u32 = fc.integer({ min: 0, max: 0xffff_ffff });
const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const epoch = fc.integer({ min: 0, max: 3 });
const filePos = fc.tuple(u32, u64, u32).map(([f, p, r]) => encodeMysqlVersion(f, p, r));
const gtid = fc.tuple(u64, u64, u32).map(([s, p, r]) => encodeMysqlGtidVersion(s, p, r));

describe('orderOf', () => {
  test('GTID and file/pos versions of one epoch are incomparable, either way round', () => {
    fc.assert(
      fc.property(epoch, filePos, gtid, (e, a, b) => {
        expect(orderOf(withEpoch(e, a), withEpoch(e, b))).toBe('incomparable');
        expect(orderOf(withEpoch(e, b), withEpoch(e, a))).toBe('incomparable');
      }),
    );
  });

  test('versions of one kind, or of different epochs, order as compareVersions does', () => {
    const sign = { older: -1, same: 0, newer: 1, incomparable: Number.NaN } as const;
    fc.assert(
      fc.property(
        fc.oneof(
          fc.tuple(epoch, filePos, filePos).map(([e, a, b]) => [withEpoch(e, a), withEpoch(e, b)] as const),
          fc.tuple(epoch, gtid, gtid).map(([e, a, b]) => [withEpoch(e, a), withEpoch(e, b)] as const),
          fc.tuple(epoch, filePos, gtid).map(([e, a, b]) => [withEpoch(e, a), withEpoch(e + 1, b)] as const),
          fc.tuple(epoch, gtid, filePos).map(([e, a, b]) => [withEpoch(e + 1, a), withEpoch(e, b)] as const),
        ),
        ([a, b]) => {
          expect(sign[orderOf(a, b)]).toBe(compareVersions(a, b));
        },
      ),
    );
  });

  test('a version without a position, a PostgreSQL one and a file/pos one are never incomparable', () => {
    const pgv = encodePostgresVersion(5, 7);
    expect(orderOf(NO_VERSION, encodeMysqlGtidVersion(1, 4, 0))).toBe('older');
    expect(orderOf(encodeMysqlGtidVersion(1, 4, 0), NO_VERSION)).toBe('newer');
    expect(orderOf(pgv, encodeMysqlVersion(1, 4, 0))).not.toBe('incomparable'); // one width: one source's
  });
});

const origin = { topic: 't', partition: 0, offset: '1' };
const options = planOptions({ groupsVersionAttribute: 'custom:cdc_groups' });
const FILE_POS = encodeMysqlVersion(3, 0x9000, 0); // stored before GTIDs were turned on
const GTID = encodeMysqlGtidVersion(42, 0x100, 0); // stored before GTIDs were turned off

const desired = (given: string): DesiredUser => ({
  username: 'legacy_1',
  attributes: { email: 'a@example.com', given_name: given },
  enabled: true,
});
const upsert = (version: string, given: string): UserIntent => ({
  kind: 'upsert',
  user: desired(given),
  version,
  origin,
  sourceTsMs: null,
});
const held = (version: string, given = 'Ana', groups: string[] = []): CurrentUser => ({
  username: 'legacy_1',
  attributes: { email: 'a@example.com', given_name: given, 'custom:cdc_version': version },
  enabled: true,
  groups,
});

describe('the planner, when an event cannot be ordered with the stored version', () => {
  test('an update writes what differs and leaves the stored version where it is', () => {
    for (const [stored, event] of [
      [FILE_POS, GTID],
      [GTID, FILE_POS],
    ] as const) {
      const plan = planUser(held(stored), upsert(event, 'Bea'), options);
      expect(plan.calls).toEqual([
        { api: 'AdminUpdateUserAttributes', username: 'legacy_1', attributes: { given_name: 'Bea' } },
      ]);
      expect(plan.appliedVersion).toBe(stored);
      expect(plan.incomparableVersion).toBe(true);
    }
  });

  test('an update that changes nothing makes no call', () => {
    const plan = planUser(held(GTID), upsert(FILE_POS, 'Ana'), options);
    expect(plan).toMatchObject({ calls: [], skip: 'no-change', appliedVersion: GTID, incomparableVersion: true });
  });

  test('for any pair of kinds and states: never the version attribute, never a delete, the stored version kept', () => {
    fc.assert(
      fc.property(
        fc.boolean(),
        filePos,
        gtid,
        fc.constantFrom('Ana', 'Bea'),
        fc.constantFrom('Ana', 'Bea'),
        (gtidStored, fp, g, have, want) => {
          const [stored, event] = gtidStored ? [g, fp] : [fp, g];
          const plan = planUser(held(stored, have), upsert(event, want), options);
          expect(plan.appliedVersion).toBe(stored);
          expect(plan.incomparableVersion).toBe(true);
          for (const call of plan.calls) {
            expect(call.api).not.toBe('AdminDeleteUser');
            if (call.api === 'AdminUpdateUserAttributes') expect(call.attributes['custom:cdc_version']).toBeUndefined();
          }
          expect(plan.calls.length > 0).toBe(have !== want);
        },
      ),
    );
  });

  test('a delete is skipped: it may be older than the row Cognito holds, and cannot be undone', () => {
    const plan = planUser(
      held(GTID),
      { kind: 'delete', username: 'legacy_1', version: FILE_POS, origin, sourceTsMs: null },
      options,
    );
    expect(plan).toMatchObject({ calls: [], skip: 'incomparable-version', incomparableVersion: true });
  });

  test('a creation over a remembered delete is skipped; a user that exists again is judged by its own version', () => {
    expect(planUser(null, upsert(FILE_POS, 'Bea'), options, GTID)).toMatchObject({
      calls: [],
      skip: 'incomparable-version',
      incomparableVersion: true,
    });
    // re-created since the delete, at a file/pos version: the event orders with that one
    const later = encodeMysqlVersion(3, 0xa000, 0);
    expect(planUser(held(FILE_POS), upsert(later, 'Bea'), options, GTID).calls).toHaveLength(1);
    expect(planUser(held(later), upsert(FILE_POS, 'Bea'), options, GTID).skip).toBe('stale-version');
  });

  test('a role row compares the membership with Cognito and records no version', () => {
    const states = encodeGroupStates(
      new Map([['admin', { version: GTID, rows: new Map([['admin', { version: GTID, granted: true }]]) }]]),
    ).value;
    const user: CurrentUser = {
      ...held(GTID),
      attributes: { ...held(GTID).attributes, 'custom:cdc_groups': states },
      groups: ['admin'],
    };
    const revoke: UserIntent = {
      kind: 'group',
      username: 'legacy_1',
      group: 'admin',
      member: false,
      role: 'admin',
      version: FILE_POS,
      origin,
      sourceTsMs: null,
    };
    const plan = planUser(user, revoke, options);
    expect(plan.calls).toEqual([{ api: 'AdminRemoveUserFromGroup', username: 'legacy_1', group: 'admin' }]);
    expect(plan.incomparableVersion).toBe(true);
    const grant = planUser(user, { ...revoke, member: true }, options);
    expect(grant).toMatchObject({ calls: [], skip: 'no-change', incomparableVersion: true });
  });
});

describe('through the applier (pool state included)', () => {
  const setup = () => {
    const cognito = new InMemoryCognito({ groups: [] });
    const applier = new UserApplier({
      gateway: cognito,
      plan: (current, intent, deleted) => planUser(current, intent, options, deleted),
      coalesce,
      state: new PoolState({
        capacity: 100,
        comparedAttributes: ['email', 'given_name'],
        versionAttribute: 'custom:cdc_version',
      }),
      manageGroups: false,
      comparedAttributes: ['email', 'given_name'],
    });
    return { cognito, applier };
  };

  test('GTIDs turned off without a new epoch: the file/pos changes after them apply by state, the stored version stays, each is counted', async () => {
    const { cognito, applier } = setup();
    await applier.apply('legacy_1', [upsert(GTID, 'Ana')]);
    const first = await applier.apply('legacy_1', [upsert(encodeMysqlVersion(1, 0x200, 0), 'Bea')]);
    expect(cognito.peek('legacy_1')?.attributes['given_name']).toBe('Bea');
    expect(first.incomparableVersions).toBe(1);
    const second = await applier.apply('legacy_1', [upsert(encodeMysqlVersion(1, 0x300, 0), 'Cleo')]);
    expect(cognito.peek('legacy_1')?.attributes['given_name']).toBe('Cleo');
    expect(second.incomparableVersions).toBe(1);
    expect(cognito.peek('legacy_1')?.attributes['custom:cdc_version']).toBe(GTID); // never moved
    // the same state again is known to the pool state: counted, no call
    const again = await applier.apply('legacy_1', [upsert(encodeMysqlVersion(1, 0x300, 0), 'Cleo')]);
    expect(again.calls).toEqual([]);
  });
});
