// A narrower cohort is refused unless --allow-shrink, and then disables (never deletes) the
// users who left; a wider one is recorded without asking (#14).
import { beforeAll, describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { join } from 'node:path';
import type { CognitoCall, CurrentUser } from '../../src/core/types.js';
import type { CognitoDirectory, CognitoGateway, ListedUser } from '../../src/adapters/cognito/cognito-gateway.js';
import type { AppliedCohort } from '../../src/adapters/kafka/cohort-log.js';
import { cohortBucket, compareCohorts, compileCohort, type CohortSpec } from '../../src/pipeline/map/cohort.js';
import { compileMapping, loadMapping, type CompiledMapping } from '../../src/pipeline/map/index.js';
import {
  applyCohortChange,
  CohortShrinkError,
  CohortShrinkIncompleteError,
  formatCohortOutcome,
} from '../../src/migration/cohort-change.js';
import { ConfigError } from '../../src/errors.js';
import { createMetrics } from '../../src/ops/metrics.js';

const KEYS = Array.from({ length: 12 }, (_, i) => `legacy_${i}`);
const percentArb = fc.integer({ min: 0, max: 10_000 }).map((n) => n / 100);
const specArb: fc.Arbitrary<CohortSpec | undefined> = fc.option(
  fc.record(
    { percent: percentArb, allow: fc.uniqueArray(fc.constantFrom(...KEYS), { maxLength: 6 }) },
    { requiredKeys: [] },
  ),
  { nil: undefined },
);

/** A username not in any allow-list with a bucket in [from, to): the users a percent change moves. */
const keyInBuckets = (from: number, to: number): string => {
  for (let i = 0; i < 1_000_000; i++) {
    const key = `w${i}`;
    const b = cohortBucket(key);
    if (b >= from && b < to) return key;
  }
  throw new Error(`no key found in buckets [${from}, ${to})`);
};

describe('comparing the cohort with the one applied last', () => {
  test('property: a key in the old cohort and not in the new one exists iff the change is a shrink', () => {
    fc.assert(
      fc.property(
        specArb,
        specArb,
        fc.array(fc.oneof(fc.constantFrom(...KEYS), fc.string()), { maxLength: 30 }),
        (a, b, keys) => {
          const change = compareCohorts(a, b);
          const [inA, inB] = [compileCohort(a), compileCohort(b)];
          // Every key that leaves is seen: the change is a shrink, and `left` names it.
          for (const k of keys) {
            expect(change.left(k)).toBe(inA(k) && !inB(k));
            if (inA(k) && !inB(k)) expect(change.shrinks).toBe(true);
          }
          // And a shrink always has a key that leaves: a removed allow entry, or one in the dropped buckets.
          if (change.shrinks) {
            const witness =
              change.removed[0] ??
              keyInBuckets(Math.round(change.lowered!.to * 100), Math.round(change.lowered!.from * 100));
            expect(inA(witness) && !inB(witness)).toBe(true);
          }
          // The same both ways: widening is a shrink read backwards.
          expect(change.widens).toBe(compareCohorts(b, a).shrinks);
        },
      ),
      { numRuns: 300 },
    );
  });

  test('what counts as a shrink, by example', () => {
    expect(compareCohorts({ percent: 10 }, { percent: 30 })).toMatchObject({ shrinks: false, widens: true });
    expect(compareCohorts({ percent: 30 }, { percent: 10 })).toMatchObject({
      shrinks: true,
      lowered: { from: 30, to: 10 },
      removed: [],
    });
    // Everyone (no cohort) to 100 %: the same users.
    expect(compareCohorts(undefined, { percent: 100 })).toMatchObject({ shrinks: false, widens: false });
    expect(compareCohorts(undefined, { percent: 50 }).shrinks).toBe(true);
    expect(compareCohorts({ percent: 50 }, undefined)).toMatchObject({ shrinks: false, widens: true });
    // An allow entry removed is a shrink only when the new percent does not cover it.
    const inside = KEYS.find((k) => cohortBucket(k) < 5000)!;
    const outside = KEYS.find((k) => cohortBucket(k) >= 5000)!;
    expect(compareCohorts({ percent: 50, allow: [inside] }, { percent: 50 }).shrinks).toBe(false);
    expect(compareCohorts({ percent: 50, allow: [outside] }, { percent: 50 })).toMatchObject({
      shrinks: true,
      removed: [outside],
    });
    // Wider by percent, narrower by name: both at once, and a shrink all the same.
    expect(compareCohorts({ percent: 10, allow: [outside] }, { percent: 20 })).toMatchObject({
      shrinks: cohortBucket(outside) >= 2000,
      widens: true,
    });
  });
});

/** A pool that answers ListUsers in pages of 2 and records every call. */
class FakePool implements CognitoGateway, CognitoDirectory {
  users = new Map<string, ListedUser>();
  calls: CognitoCall[] = [];
  listings = 0;
  failFor = new Set<string>();
  async *listUsers(): AsyncIterable<ListedUser[]> {
    this.listings++;
    const all = [...this.users.values()].map((u) => ({ ...u, attributes: { ...u.attributes } }));
    for (let i = 0; i < all.length; i += 2) yield all.slice(i, i + 2);
  }
  async *listUsersInGroup(): AsyncIterable<string[]> {}
  async listPoolGroups(): Promise<string[]> {
    return [];
  }
  async describeUserPool() {
    return {};
  }
  async addCustomAttributes(): Promise<void> {}
  async getUser(): Promise<CurrentUser | null> {
    throw new Error('a cohort change reads no user one by one');
  }
  async execute(call: CognitoCall): Promise<void> {
    this.calls.push(call);
    if (this.failFor.has(call.username)) throw new Error('boom');
    if (call.api === 'AdminDisableUser') this.users.get(call.username)!.enabled = false;
  }
}

let base: CompiledMapping;
beforeAll(async () => {
  base = compileMapping(await loadMapping(join(import.meta.dirname, '../../examples/mapping.yaml')));
});

describe('a start with a changed cohort', () => {
  const withCohort = (cohort: CohortSpec | undefined): CompiledMapping =>
    compileMapping(cohort === undefined ? base.spec : { ...base.spec, cohort });
  const applied = (cohort: CohortSpec | null): AppliedCohort => ({ cohort, at: '2026-01-01T00:00:00.000Z', by: 'run' });
  const ids = Array.from({ length: 60 }, (_, i) => i + 1);
  const setup = () => {
    const pool = new FakePool();
    for (const id of ids)
      pool.users.set(`legacy_${id}`, {
        username: `legacy_${id}`,
        attributes: { email: `u${id}@example.com`, 'custom:cdc_version': '0000000000000001' },
        enabled: true,
      });
    const records: AppliedCohort[] = [];
    const input = (mapping: CompiledMapping, prior: AppliedCohort | undefined, allowShrink: boolean) => ({
      mapping,
      applied: prior,
      allowShrink,
      by: 'run',
      record: async (a: AppliedCohort) => {
        records.push(a);
      },
      pool: () => ({ directory: pool, gateway: pool }),
      concurrency: 3,
    });
    return { pool, records, input };
  };

  test('nothing recorded: recorded; the same cohort: nothing written; a wider one: recorded without a call to Cognito', async () => {
    const { pool, records, input } = setup();
    expect((await applyCohortChange(input(withCohort({ percent: 10 }), undefined, false))).kind).toBe('first');
    expect(records.map((r) => r.cohort)).toEqual([{ percent: 10 }]);
    expect((await applyCohortChange(input(withCohort({ percent: 10 }), applied({ percent: 10 }), false))).kind).toBe(
      'same',
    );
    expect(records).toHaveLength(1);
    const widened = await applyCohortChange(input(withCohort({ percent: 30 }), applied({ percent: 10 }), false));
    expect(widened.kind).toBe('widened');
    expect(formatCohortOutcome(widened)).toMatch(/reconcile --repair/);
    expect(records.map((r) => r.cohort)).toEqual([{ percent: 10 }, { percent: 30 }]);
    // No cohort in the mapping is recorded as null (everyone).
    await applyCohortChange(input(withCohort(undefined), applied({ percent: 30 }), false));
    expect(records.at(-1)!.cohort).toBeNull();
    expect(pool.listings).toBe(0);
    expect(pool.calls).toEqual([]);
  });

  test('a narrower cohort is refused (exit 2, naming what shrank) and nothing is touched or recorded', async () => {
    const { pool, records, input } = setup();
    const refusal = applyCohortChange(
      input(withCohort({ percent: 10 }), applied({ percent: 30, allow: ['legacy_7', 'legacy_8'] }), false),
    );
    await expect(refusal).rejects.toThrow(CohortShrinkError);
    await expect(refusal).rejects.toThrow(ConfigError); // main answers a ConfigError with exit 2
    const inTen = compileCohort({ percent: 10 });
    const removed = ['legacy_7', 'legacy_8'].filter((u) => !inTen(u));
    await expect(refusal).rejects.toThrow(/percent lowered from 30 to 10/);
    if (removed.length > 0) await expect(refusal).rejects.toThrow(new RegExp(`allow entries removed: ${removed[0]}`));
    await expect(refusal).rejects.toThrow(/--allow-shrink/);
    expect(records).toEqual([]);
    expect(pool.listings).toBe(0);
    expect(pool.calls).toEqual([]);
  });

  test('--allow-shrink disables exactly the sync users who left, each once; never deletes; others untouched', async () => {
    const { pool, records, input } = setup();
    const [thirty, ten] = [compileCohort({ percent: 30 }), compileCohort({ percent: 10 })];
    const leavers = ids.map((i) => `legacy_${i}`).filter((u) => thirty(u) && !ten(u));
    expect(leavers.length).toBeGreaterThan(2);
    // One leaver is disabled already: no call for it.
    pool.users.get(leavers[0]!)!.enabled = false;
    // Not the sync's: another shape, or no version stamp (someone else's user with our shape).
    pool.users.set('admin@ops', { username: 'admin@ops', attributes: {}, enabled: true });
    const unstamped = Array.from({ length: 500 }, (_, i) => `legacy_${1000 + i}`).find((u) => thirty(u) && !ten(u))!;
    pool.users.set(unstamped, { username: unstamped, attributes: { email: 'x@example.com' }, enabled: true });

    const outcome = await applyCohortChange(input(withCohort({ percent: 10 }), applied({ percent: 30 }), true));
    expect(outcome.kind).toBe('shrunk');
    if (outcome.kind !== 'shrunk') return;
    expect(outcome.leavers).toMatchObject({
      listed: ids.length + 2,
      left: leavers.length,
      disabled: leavers.length - 1,
      alreadyDisabled: 1,
      failed: 0,
    });
    expect(pool.calls.every((c) => c.api === 'AdminDisableUser')).toBe(true);
    expect(pool.calls.map((c) => c.username).sort()).toEqual(leavers.slice(1).sort());
    for (const [username, user] of pool.users)
      expect(user.enabled).toBe(!(leavers.includes(username) || username === leavers[0]));
    expect(pool.users.size).toBe(ids.length + 2);
    expect(pool.listings).toBe(1);
    expect(records.map((r) => r.cohort)).toEqual([{ percent: 10 }]);
    expect(formatCohortOutcome(outcome)).toMatch(/disabled now/);
  });

  test('a leaver that cannot be disabled: the new cohort is not recorded, so the next start tries again', async () => {
    const { pool, records, input } = setup();
    const [thirty, ten] = [compileCohort({ percent: 30 }), compileCohort({ percent: 10 })];
    const leaver = ids.map((i) => `legacy_${i}`).find((u) => thirty(u) && !ten(u))!;
    pool.failFor.add(leaver);
    await expect(applyCohortChange(input(withCohort({ percent: 10 }), applied({ percent: 30 }), true))).rejects.toThrow(
      CohortShrinkIncompleteError,
    );
    expect(records).toEqual([]);
    pool.failFor.clear();
    const again = await applyCohortChange(input(withCohort({ percent: 10 }), applied({ percent: 30 }), true));
    expect(again.kind === 'shrunk' && again.leavers.disabled).toBe(1);
    expect(records).toHaveLength(1);
  });
});

describe('the rollout in the metrics', () => {
  const value = async (metrics: ReturnType<typeof createMetrics>, name: string): Promise<number | undefined> =>
    (await metrics.registry.getSingleMetric(name)?.get())?.values[0]?.value;

  test('cohort gauges: the applied cohort, and the progress a reconcile pass recorded', async () => {
    const metrics = createMetrics();
    expect(await value(metrics, 'cognito_sync_cohort_measured_timestamp_seconds')).toBe(0);
    metrics.cohort.applied({ percent: 12.5, allow: ['legacy_1', 'legacy_2'] });
    metrics.cohort.progress({
      legacyUsers: 1250,
      inCognito: 1000,
      passwordReady: 400,
      at: '2026-06-01T00:00:00.000Z',
      by: 'reconcile',
    });
    expect(await value(metrics, 'cognito_sync_cohort_percent')).toBe(12.5);
    expect(await value(metrics, 'cognito_sync_cohort_allowed_users')).toBe(2);
    expect(await value(metrics, 'cognito_sync_cohort_legacy_users')).toBe(1250);
    expect(await value(metrics, 'cognito_sync_cohort_cognito_users')).toBe(1000);
    expect(await value(metrics, 'cognito_sync_cohort_password_ready_users')).toBe(400);
    expect(await value(metrics, 'cognito_sync_cohort_measured_timestamp_seconds')).toBe(
      Date.parse('2026-06-01T00:00:00Z') / 1000,
    );
    // No cohort: everyone; password-ready that cannot be told is NaN, not a false 0.
    metrics.cohort.applied(undefined);
    metrics.cohort.progress({
      legacyUsers: 5,
      inCognito: 5,
      passwordReady: null,
      at: new Date().toISOString(),
      by: 'x',
    });
    expect(await value(metrics, 'cognito_sync_cohort_percent')).toBe(100);
    expect(await value(metrics, 'cognito_sync_cohort_password_ready_users')).toBeNaN();
    expect(await metrics.registry.metrics()).toMatch(/^cognito_sync_cohort_cognito_users 5$/m);
  });
});
