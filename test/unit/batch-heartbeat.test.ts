// A batch can outlast the consumer group's session timeout, and so can one user's apply (its
// calls wait for the budget's tokens or back off on throttling). The group must keep hearing
// from the member meanwhile, or it is expelled and the batch is redone by someone else.
import { jest } from '@jest/globals';
import type { CognitoCall } from '../../src/core/types.js';
import type { Clock } from '../../src/pipeline/apply/token-bucket.js';
import { exampleMapping, pipelineFor, SimulatedConsumer } from '../../bench/support/harness.js';
import { InMemoryCognito } from '../../bench/support/in-memory-cognito.js';
import { TopicLog, USERS_TOPIC, changeRecords } from '../../bench/support/legacy-records.js';
import { LegacyWorkload } from '../../bench/support/legacy-workload.js';

/** Cognito whose every write takes `ms` (fake time), like a call waiting for the budget's tokens. */
class SlowCognito extends InMemoryCognito {
  constructor(private readonly ms: number) {
    super();
  }
  override async execute(call: CognitoCall): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, this.ms));
    return super.execute(call);
  }
}

const fakeClock: Clock = { now: () => Date.now(), sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)) };

afterEach(() => jest.useRealTimers());

test('heartbeats keep going while a single user takes seconds to apply', async () => {
  jest.useFakeTimers();
  const mapping = await exampleMapping();
  const workload = new LegacyWorkload({ users: 1, seed: 3 });
  const log = new TopicLog(USERS_TOPIC, 1);
  for (const change of workload.snapshot())
    for (const kv of changeRecords(change, 'json')) if (kv.topic === USERS_TOPIC) log.append(kv);
  const consumer = new SimulatedConsumer({
    pipeline: pipelineFor(mapping, 'json'),
    cognito: new SlowCognito(6_000),
    clock: fakeClock,
    concurrency: 1,
  });
  const heartbeat = jest.fn(() => Promise.resolve());

  const done = consumer.processor.process(log.read(0, 0, 10), { isActive: () => true, heartbeat });
  await jest.advanceTimersByTimeAsync(20_000);
  const outcome = await done;

  // one user, one AdminCreateUser taking 6 s: about one heartbeat a second, not one at the end
  expect(outcome).toMatchObject({ users: 1, calls: 1, incomplete: false });
  expect(heartbeat.mock.calls.length).toBeGreaterThanOrEqual(5);
});
