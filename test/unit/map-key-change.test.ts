// The delete half of a primary-key change (Debezium's __debezium.newkey header) deletes no user
// when the username does not come from the key: the row lives on under its new key, and the
// create half may be applied before or after it (the two halves go to different partitions).
import type { ChangeEvent, RawRecord } from '../../src/core/types.js';
import { markKeyChange } from '../../src/pipeline/decode/key-change-header.js';
import { compileMapping } from '../../src/pipeline/map/compile-mapping.js';
import { parseMapping } from '../../src/pipeline/map/load-mapping.js';
import { mapEvent } from '../../src/pipeline/map/map-event.js';

const origin = { topic: 'legacy.public.users', partition: 1, offset: '9' };
const deleteEvent = (over: Partial<ChangeEvent> = {}): ChangeEvent => ({
  table: 'users',
  key: { id: 7 },
  op: 'd',
  before: { id: 7, login: 'kc', email: 'kc@example.com' },
  after: null,
  version: '0000000001000000' + '0000000001000010',
  sourceTsMs: null,
  tombstone: false,
  snapshot: false,
  origin,
  ...over,
});
const raw = (headers: RawRecord['headers']): RawRecord => ({ ...origin, key: null, value: null, headers });
const byLogin = compileMapping(parseMapping({ username: { column: 'login' }, attributes: { email: 'email' } }));
const byKey = compileMapping(parseMapping({ username: { template: 'legacy_{id}' }, attributes: { email: 'email' } }));

test('the decoder flags a delete that carries __debezium.newkey, and nothing else', () => {
  const flagged = markKeyChange(raw({ '__debezium.newkey': Buffer.from('{"id":1007}') }), {
    kind: 'event',
    event: deleteEvent(),
  });
  expect(flagged.kind === 'event' && flagged.event.keyChanged).toBe(true);
  const plain = markKeyChange(raw({}), { kind: 'event', event: deleteEvent() });
  expect(plain.kind === 'event' && plain.event.keyChanged).toBeUndefined();
  const create = markKeyChange(raw({ '__debezium.newkey': 'x' }), {
    kind: 'event',
    event: deleteEvent({ op: 'c', before: null, after: { id: 1007, login: 'kc' } }),
  });
  expect(create.kind === 'event' && create.event.keyChanged).toBeUndefined();
});

test('a username from a non-key column: the key-change delete is skipped, a plain delete still deletes', () => {
  expect(mapEvent(byLogin, deleteEvent({ keyChanged: true }))).toEqual({
    ok: true,
    value: { kind: 'skip', reason: 'key-change' },
  });
  const plain = mapEvent(byLogin, deleteEvent());
  expect(plain.ok && plain.value.kind === 'intents' && plain.value.intents[0]).toMatchObject({
    kind: 'delete',
    username: 'kc',
  });
});

test('a username from the key: a key change is a new username, so the old user is deleted', () => {
  const r = mapEvent(byKey, deleteEvent({ keyChanged: true }));
  expect(r.ok && r.value.kind === 'intents' && r.value.intents[0]).toMatchObject({
    kind: 'delete',
    username: 'legacy_7',
  });
});
