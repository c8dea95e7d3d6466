// The sync service reads its group's lag after every rebalance (seedUsersLag) through one admin
// client for its life: a rebalance costs a ListOffsets/OffsetFetch, not a new connection.
import { expect, test } from '@jest/globals';
import type { Admin, Kafka } from 'kafkajs';
import { SharedAdmin } from '../../src/adapters/kafka/shared-admin.js';

/** Counts what a Kafka client is asked for; the admin does nothing else. */
function countingKafka(failConnects = 0): { kafka: Pick<Kafka, 'admin'>; counts: Record<string, number> } {
  const counts = { admin: 0, connect: 0, disconnect: 0 };
  const kafka = {
    admin: (): Admin => {
      counts.admin++;
      return {
        connect: async () => {
          counts.connect++;
          if (counts.connect <= failConnects) throw new Error('broker not reachable');
        },
        disconnect: async () => void counts.disconnect++,
      } as unknown as Admin;
    },
  };
  return { kafka, counts };
}

test('ten rebalances use one client, connected once, disconnected once when the service stops', async () => {
  const { kafka, counts } = countingKafka();
  const shared = new SharedAdmin(kafka);
  const clients = await Promise.all(Array.from({ length: 10 }, () => shared.get()));
  expect(new Set(clients).size).toBe(1);
  expect(counts).toEqual({ admin: 1, connect: 1, disconnect: 0 });
  await shared.close();
  expect(counts).toEqual({ admin: 1, connect: 1, disconnect: 1 });
  await expect(shared.get()).rejects.toThrow(/closed/);
});

test('a failed connect is tried again by the next use', async () => {
  const { kafka, counts } = countingKafka(1);
  const shared = new SharedAdmin(kafka);
  await expect(shared.get()).rejects.toThrow(/not reachable/);
  await shared.get();
  expect(counts).toEqual({ admin: 1, connect: 2, disconnect: 0 });
});

test('never used: nothing to connect or disconnect', async () => {
  const { kafka, counts } = countingKafka();
  await new SharedAdmin(kafka).close();
  expect(counts).toEqual({ admin: 0, connect: 0, disconnect: 0 });
});
