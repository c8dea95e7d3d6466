// The migration cohort (#14): one rule, the same answer from every component.
import { describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { join } from 'node:path';
import { cohortBucket, compileCohort } from '../../src/pipeline/map/cohort.js';
import { compileMapping } from '../../src/pipeline/map/compile-mapping.js';
import { loadMapping } from '../../src/pipeline/map/load-mapping.js';
import { mapEvent } from '../../src/pipeline/map/map-event.js';
import type { ChangeEvent } from '../../src/core/types.js';

describe('the cohort rule', () => {
  test('a stable bucket per username: widening only adds users, never drops one', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1 }),
        fc.integer({ min: 0, max: 100 }),
        fc.integer({ min: 0, max: 100 }),
        (u, a, b) => {
          const [narrow, wide] = a <= b ? [a, b] : [b, a];
          expect(cohortBucket(u)).toBe(cohortBucket(u));
          if (compileCohort({ percent: narrow })(u)) expect(compileCohort({ percent: wide })(u)).toBe(true);
        },
      ),
    );
  });

  test('percent selects about that share of users; the allow-list adds exactly its names', () => {
    const names = Array.from({ length: 20_000 }, (_, i) => `legacy_${i}`);
    const ten = compileCohort({ percent: 10 });
    const share = names.filter(ten).length / names.length;
    expect(share).toBeGreaterThan(0.09);
    expect(share).toBeLessThan(0.11);
    const allowOnly = compileCohort({ allow: ['legacy_3'] });
    expect(names.filter(allowOnly)).toEqual(['legacy_3']);
    const out = names.find((n) => !ten(n))!;
    expect(compileCohort({ percent: 10, allow: [out] })(out)).toBe(true);
    expect(compileCohort(undefined)('anyone')).toBe(true);
    expect(names.some(compileCohort({ percent: 0 }))).toBe(false);
    expect(names.every(compileCohort({ percent: 100 }))).toBe(true);
  });
});

describe('in the sync', () => {
  const origin = { topic: 't', partition: 0, offset: '1' };
  const usersEvent = (id: number, email: string): ChangeEvent => ({
    table: 'users',
    key: { id },
    op: 'c',
    before: null,
    after: { id, username: `u${id}`, email, email_verified: true, status: 'active', given_name: 'A', family_name: 'B' },
    version: '00000000000000010000000000000001',
    sourceTsMs: null,
    tombstone: false,
    snapshot: false,
    origin,
  });

  test('a user outside the cohort is skipped as outside-cohort, even with a row the mapping would refuse; role rows too', async () => {
    const base = await loadMapping(join(import.meta.dirname, '../../examples/mapping.yaml'));
    const inside = compileCohort({ percent: 50 });
    const ids = Array.from({ length: 40 }, (_, i) => i + 1);
    const idIn = ids.find((i) => inside(`legacy_${i}`))!;
    const idOut = ids.find((i) => !inside(`legacy_${i}`))!;
    const mapping = compileMapping({ ...base, cohort: { percent: 50 } });
    const mappedIn = mapEvent(mapping, usersEvent(idIn, 'a@example.com'));
    expect(mappedIn.ok && mappedIn.value.kind).toBe('intents');
    for (const email of ['a@example.com', 'not-an-email@@x']) {
      const mappedOut = mapEvent(mapping, usersEvent(idOut, email));
      expect(mappedOut).toEqual({ ok: true, value: { kind: 'skip', reason: 'outside-cohort' } });
    }
    const role = (userId: number): ChangeEvent => ({
      ...usersEvent(userId, ''),
      table: 'user_roles',
      key: { user_id: userId, role: 'admin' },
      after: { user_id: userId, role: 'admin' },
    });
    expect(mapEvent(mapping, role(idOut))).toEqual({ ok: true, value: { kind: 'skip', reason: 'outside-cohort' } });
    const roleIn = mapEvent(mapping, role(idIn));
    expect(roleIn.ok && roleIn.value.kind).toBe('intents');
  });
});
