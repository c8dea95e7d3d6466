// A primary-key change when the username comes from a non-key column (REPLICA IDENTITY FULL):
// Debezium sends delete(old key) + create(new key) at one source position, both naming the same
// user. The create wins: the user is kept, in whichever order the two halves are applied.
import type { CurrentUser, DesiredUser, UserIntent } from '../../src/core/types.js';
import { coalesce } from '../../src/pipeline/plan/coalesce.js';
import { planUser } from '../../src/pipeline/plan/plan-user.js';
import { planOptions } from './support/plan-options.js';

const origin = { topic: 't', partition: 0, offset: '1' };
const v = (n: number): string => n.toString(16).padStart(32, '0');
const alice: DesiredUser = { username: 'alice', attributes: { email: 'alice@x.io' }, enabled: true };
const create = (n: number): UserIntent => ({ kind: 'upsert', user: alice, version: v(n), origin, sourceTsMs: null });
const remove = (n: number): UserIntent => ({
  kind: 'delete',
  username: 'alice',
  version: v(n),
  origin,
  sourceTsMs: null,
});
const inCognito = (n: number): CurrentUser => ({
  username: 'alice',
  attributes: { email: 'alice@x.io', 'custom:cdc_version': v(n) },
  enabled: true,
});
const options = planOptions();

test('in one batch: the delete and create at one position fold to the create (no delete call)', () => {
  expect(coalesce([create(5), remove(9), create(9)])).toEqual([
    expect.objectContaining({ kind: 'upsert', version: v(9) }),
  ]);
  const [only] = coalesce([remove(9), create(9)]);
  const plan = planUser(inCognito(5), only!, options);
  expect(plan.calls.map((c) => c.api)).not.toContain('AdminDeleteUser');
  expect(plan.calls.map((c) => c.api)).not.toContain('AdminCreateUser');
  expect(plan.appliedVersion).toBe(v(9));
});

test('create applied first: the delete at its position is stale, the user stays', () => {
  const plan = planUser(inCognito(9), remove(9), options);
  expect(plan.calls).toEqual([]);
  expect(plan.skip).toBe('stale-version');
});

test('delete applied first: the create at the same position is not stale against it', () => {
  const plan = planUser(null, create(9), options, v(9));
  expect(plan.calls.map((c) => c.api)).toEqual(['AdminCreateUser']);
});

test('an older create replayed after a delete still does not resurrect the user', () => {
  expect(planUser(null, create(8), options, v(9)).skip).toBe('stale-version');
  // and a delete then a create at a later position stays a recreate
  expect(coalesce([remove(9), create(10)]).map((i) => i.kind)).toEqual(['delete', 'upsert']);
});
