// The deleted-users log is bounded by what can still be replayed: an entry goes once the users
// topic no longer holds its record, or once it is older than the configured horizon.
import { describe, expect, test } from '@jest/globals';
import { DeletedUsersLoader, decodeOrigin, encodeOrigin } from '../../src/adapters/kafka/deleted-users-log.js';

const origin = (offset: number, partition = 0, topic = 'legacy.public.users'): string =>
  encodeOrigin({ topic, partition, offset: String(offset) });
const earliest = new Map([['legacy.public.users', new Map([[0, 100n]])]]);

describe('DeletedUsersLoader', () => {
  test('origins round-trip, topic names with colons included', () => {
    expect(decodeOrigin(encodeOrigin({ topic: 'a:b.c', partition: 3, offset: '42' }))).toEqual({
      topic: 'a:b.c',
      partition: 3,
      offset: '42',
    });
    expect(decodeOrigin('garbage')).toBeUndefined();
  });

  test('an entry whose users-topic record is gone is dropped (and tombstoned); one still held stays', () => {
    const loader = new DeletedUsersLoader({ earliest });
    loader.add('gone', 'v1', origin(99), 0);
    loader.add('held', 'v2', origin(100), 0);
    loader.add('other-partition', 'v3', origin(5, 1), 0); // partition 1 not known: kept
    loader.add('other-topic', 'v4', origin(5, 0, 'elsewhere'), 0);
    loader.add('no-origin', 'v5', undefined, 0); // written before origins: kept without a horizon
    expect([...loader.live.keys()].sort()).toEqual(['held', 'no-origin', 'other-partition', 'other-topic']);
    expect([...loader.dropped]).toEqual(['gone']);
  });

  test('the horizon drops older entries, with or without origin', () => {
    const loader = new DeletedUsersLoader({ earliest: new Map(), notBeforeMs: 1000 });
    loader.add('old', 'v1', undefined, 999);
    loader.add('old-origin', 'v1', origin(500), 10);
    loader.add('new', 'v2', undefined, 1000);
    expect([...loader.live.keys()]).toEqual(['new']);
    expect([...loader.dropped].sort()).toEqual(['old', 'old-origin']);
  });

  test('later records of a key win as compaction would; a tombstone removes the key', () => {
    const loader = new DeletedUsersLoader({ earliest });
    loader.add('u', 'v1', origin(99), 0); // dropped...
    loader.add('u', 'v2', origin(150), 0); // ...then deleted again, still held: live
    expect(loader.live.get('u')).toBe('v2');
    expect(loader.dropped.has('u')).toBe(false);
    loader.add('u', 'v3', origin(160), 0);
    loader.add('u', 'v0', origin(170), 0); // an older version written later never lowers it
    expect(loader.live.get('u')).toBe('v3');
    loader.add('u', null, undefined, 0);
    expect(loader.live.has('u')).toBe(false);
    expect(loader.records).toBe(5);
  });
});
