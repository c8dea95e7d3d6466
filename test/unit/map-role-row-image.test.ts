// Role rows keyed by a surrogate id under REPLICA IDENTITY DEFAULT: a delete carries only the
// key (Debezium fills user_id and role with 0 and ""), an update no old row. The revocation or
// replacement cannot be told: refused with the fix named, never skipped as 'filtered'.
import { readFileSync } from 'node:fs';
import type { ChangeEvent } from '../../src/core/types.js';
import { compileMapping } from '../../src/pipeline/map/compile-mapping.js';
import { parseMapping, parseMappingText } from '../../src/pipeline/map/load-mapping.js';
import { mapEvent } from '../../src/pipeline/map/map-event.js';

const examplePath = new URL('../../examples/mapping.yaml', import.meta.url).pathname;
const example = compileMapping(parseMappingText(readFileSync(examplePath, 'utf8'), examplePath));
const origin = { topic: 'legacy.public.user_roles', partition: 0, offset: '7' };

const roleEvent = (over: Partial<ChangeEvent>): ChangeEvent => ({
  table: 'user_roles',
  key: { id: 9 },
  op: 'c',
  before: null,
  after: { id: 9, user_id: 42, role: 'admin' },
  version: '0000000001000000' + '0000000001000010',
  sourceTsMs: null,
  tombstone: false,
  snapshot: false,
  origin,
  ...over,
});

const messageOf = (e: ChangeEvent, mapping = example): string => {
  const r = mapEvent(mapping, e);
  if (r.ok) throw new Error(`expected a refusal, got ${JSON.stringify(r.value)}`);
  return r.error.message;
};

test('a key-only delete of a surrogate-key role row is refused naming REPLICA IDENTITY FULL', () => {
  const keyOnly = roleEvent({ op: 'd', before: { id: 9, user_id: 0, role: '' }, after: null });
  expect(messageOf(keyOnly)).toMatch(/carries neither user_id nor role.*ALTER TABLE user_roles REPLICA IDENTITY FULL/);
  expect(messageOf(roleEvent({ op: 'd', before: { id: 9, user_id: null, role: null }, after: null }))).toMatch(
    /REPLICA IDENTITY FULL/,
  );
});

test('an update without its old row is refused; with it (REPLICA IDENTITY FULL) the old group is removed', () => {
  const change = { after: { id: 9, user_id: 42, role: 'support' } };
  expect(messageOf(roleEvent({ op: 'u', before: null, ...change }))).toMatch(/came without its old row/);
  const r = mapEvent(example, roleEvent({ op: 'u', before: { id: 9, user_id: 42, role: 'admin' }, ...change }));
  expect(
    r.ok && r.value.kind === 'intents' && r.value.intents.map((i) => i.kind === 'group' && [i.group, i.member]),
  ).toEqual([
    ['admin', false],
    ['support', true],
  ]);
});

test('a full delete, a composite key, and add-only groups are not refused', () => {
  const full = mapEvent(example, roleEvent({ op: 'd', before: { id: 9, user_id: 42, role: 'admin' }, after: null }));
  expect(full.ok && full.value.kind === 'intents' && full.value.intents[0]).toMatchObject({
    group: 'admin',
    member: false,
  });
  const composite = mapEvent(
    example,
    roleEvent({ key: { user_id: 42, role: 'admin' }, op: 'u', before: null, after: { user_id: 42, role: 'admin' } }),
  );
  expect(composite.ok).toBe(true);
  const addOnly = compileMapping(
    parseMapping({
      username: { template: 'legacy_{id}' },
      attributes: { email: 'email' },
      rolesTable: {},
      groups: { managed: false },
    }),
  );
  expect(mapEvent(addOnly, roleEvent({ op: 'u', before: null })).ok).toBe(true);
});
