// A batch's Cognito calls stop when the batch is revoked or one of its users fails: no call
// starts after that, and the calls already in flight are awaited before the batch returns (and
// so before its partition can go to the next owner, who would read-plan-write the same users).
import type { CognitoCall, CurrentUser, RawRecord } from '../../src/core/types.js';
import { CognitoApiError } from '../../src/errors.js';
import type { Clock } from '../../src/pipeline/apply/token-bucket.js';
import { PipelineStoppedError } from '../../src/runtime/batch-processor.js';
import { forEachLimit } from '../../src/runtime/concurrency.js';
import { exampleMapping, pipelineFor, SimulatedConsumer } from '../../bench/support/harness.js';
import { InMemoryCognito } from '../../bench/support/in-memory-cognito.js';
import { TopicLog, USERS_TOPIC, changeRecords } from '../../bench/support/legacy-records.js';
import { LegacyWorkload } from '../../bench/support/legacy-workload.js';

/** Cognito whose every call is held until the test lets it go; it logs when each one starts. */
class HeldCognito extends InMemoryCognito {
  readonly started: string[] = [];
  private readonly held = new Map<string, () => void>();
  failCreateOf: string | undefined;

  override async getUser(username: string, withGroups: boolean): Promise<CurrentUser | null> {
    await this.enter(`AdminGetUser ${username}`);
    return super.getUser(username, withGroups);
  }

  override async execute(call: CognitoCall): Promise<void> {
    if (call.api === 'AdminCreateUser' && call.username === this.failCreateOf) {
      this.started.push(`AdminCreateUser ${call.username}`);
      throw new CognitoApiError('AdminCreateUser failed: InvalidParameterException: bad', {
        api: 'AdminCreateUser',
        code: 'InvalidParameterException',
        retriable: false,
      });
    }
    await this.enter(`${call.api} ${call.username}`);
    return super.execute(call);
  }

  private enter(name: string): Promise<void> {
    this.started.push(name);
    return new Promise((resolve) => this.held.set(name, resolve));
  }

  get inFlight(): string[] {
    return [...this.held.keys()];
  }

  release(name: string): void {
    const go = this.held.get(name);
    if (!go) throw new Error(`${name} is not in flight (in flight: ${this.inFlight.join(', ')})`);
    this.held.delete(name);
    go();
  }
}

/** Virtual time: sleeping moves it on at once (no backoff is waited for in real time). */
const manualClock = (): Clock => {
  let t = 0;
  return {
    now: () => t,
    sleep: (ms) => {
      t += ms;
      return Promise.resolve();
    },
  };
};

const until = async (what: string, condition: () => boolean): Promise<void> => {
  for (let i = 0; i < 1000; i++) {
    if (condition()) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
  throw new Error(`never happened: ${what}`);
};

async function setup(
  tolerance: 'all' | 'none',
): Promise<{ cognito: HeldCognito; consumer: SimulatedConsumer; records: RawRecord[] }> {
  const mapping = await exampleMapping();
  const workload = new LegacyWorkload({ users: 6, seed: 5 });
  const log = new TopicLog(USERS_TOPIC, 1);
  for (const change of workload.snapshot())
    for (const kv of changeRecords(change, 'json')) if (kv.topic === USERS_TOPIC) log.append(kv);
  const cognito = new HeldCognito();
  const consumer = new SimulatedConsumer({
    pipeline: pipelineFor(mapping, 'json'),
    cognito,
    clock: manualClock(),
    concurrency: 2,
    tolerance,
  });
  return { cognito, consumer, records: log.read(0, 0, 100) };
}

const usernameOf = (call: string): string => call.slice(call.indexOf(' ') + 1);

test('after a revoke no Cognito call starts, and the batch returns only once its calls in flight have ended', async () => {
  const { cognito, consumer, records } = await setup('all');
  let active = true;
  let settled = false;
  const done = consumer.processor
    .process(records, { isActive: () => active, heartbeat: () => Promise.resolve() })
    .finally(() => (settled = true));

  await until('two users read', () => cognito.inFlight.length === 2);
  const [first, second] = cognito.inFlight as [string, string];
  expect(first).toMatch(/^AdminGetUser /);
  expect(second).toMatch(/^AdminGetUser /);

  active = false; // the partition is revoked while both reads are in flight
  const startedBeforeRevoke = cognito.started.length;
  await new Promise((resolve) => setTimeout(resolve, 20));
  expect(settled).toBe(false); // two calls still in flight: the batch must not hand back yet

  cognito.release(first);
  await new Promise((resolve) => setTimeout(resolve, 20));
  expect(settled).toBe(false);
  cognito.release(second);
  const outcome = await done;

  // neither read was followed by its AdminCreateUser, and the other four users never started
  expect(cognito.started).toHaveLength(startedBeforeRevoke);
  expect(cognito.started.slice(startedBeforeRevoke)).toEqual([]);
  expect(cognito.users.size).toBe(0);
  expect(outcome.incomplete).toBe(true);
  expect(outcome.commitOffset).toBe(records[0]!.offset); // nothing applied: the commit stays before the batch
  expect(consumer.deadLetters).toEqual([]); // refused calls are redone, not dead-lettered
});

test('when one user fails the batch (tolerance none), the others start no call and are awaited before it throws', async () => {
  const { cognito, consumer, records } = await setup('none');
  let settled = false;
  const done = consumer.processor.process(records, { isActive: () => true, heartbeat: () => Promise.resolve() });
  const outcome = done.then(
    () => 'resolved',
    (error: unknown) => error,
  );
  void outcome.finally(() => (settled = true));

  await until('two users read', () => cognito.inFlight.length === 2);
  const [first, second] = cognito.inFlight as [string, string];
  cognito.failCreateOf = usernameOf(first);
  cognito.release(first); // its AdminCreateUser fails for good: poison under tolerance none
  await until('the failing create', () => cognito.started.includes(`AdminCreateUser ${usernameOf(first)}`));
  const startedAtFailure = cognito.started.length;
  await new Promise((resolve) => setTimeout(resolve, 20));
  expect(settled).toBe(false); // the second user's read is still in flight

  cognito.release(second);
  const error = await outcome;
  expect(error).toBeInstanceOf(PipelineStoppedError);
  // the second user's create, and the four users after them, never started
  expect(cognito.started).toHaveLength(startedAtFailure);
  expect(cognito.users.has(usernameOf(second))).toBe(false);
});

test('forEachLimit starts nothing after the first failure and rejects only when the rest has settled', async () => {
  const started: number[] = [];
  let slowEnded = false;
  const run = forEachLimit([1, 2, 3, 4, 5], 2, async (n) => {
    started.push(n);
    if (n === 1) throw new Error('one failed');
    await new Promise((resolve) => setTimeout(resolve, 30));
    slowEnded = true;
  });
  await expect(run).rejects.toThrow('one failed');
  expect(slowEnded).toBe(true);
  expect(started).toEqual([1, 2]);
});
