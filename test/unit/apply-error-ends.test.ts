// What a partition batch does with the ends of Cognito errors: a user that keeps failing with
// retriable errors is retried for processing.maxApplyRetryMs and then dead-lettered with its
// last error (it cannot hold the partition forever); an error that stops the pipeline (no
// credentials, no permission) dead-letters nothing and commits nothing. Time is a virtual clock.
import { describe, expect, test } from '@jest/globals';
import { toApiError } from '../../src/adapters/cognito/cognito-gateway.js';
import type { RawRecord, UserIntent } from '../../src/core/types.js';
import type { SyncError } from '../../src/errors.js';
import type { UserApplier, UserApplyReport } from '../../src/pipeline/apply/user-applier.js';
import type { Clock } from '../../src/pipeline/apply/token-bucket.js';
import { BatchProcessor, PipelineStoppedError, type BatchOutcome } from '../../src/runtime/batch-processor.js';
import { noEvents } from '../../src/runtime/instrumentation.js';

/** Virtual time: sleeping advances the clock at once. */
function virtualClock(): Clock & { t: number } {
  const clock = { t: 0, now: () => clock.t, sleep: async (ms: number) => void (clock.t += ms) };
  return clock;
}

/** One record per username (its value), partition 0 of a users topic, offsets from 0. */
const records = (usernames: string[]): RawRecord[] =>
  usernames.map((name, i) => ({
    topic: 'legacy.public.users',
    partition: 0,
    offset: String(i),
    key: Buffer.from(name),
    value: Buffer.from(name),
    headers: {},
  }));

const awsError = (code: string, httpStatusCode: number | undefined, message = code): Error =>
  Object.assign(new Error(message), { name: code, $metadata: { httpStatusCode } });

/** Each record becomes one user's intent (a delete); `apply` decides how that user's apply ends. */
function processor(
  apply: (username: string) => Promise<void>,
  clock: Clock,
  maxApplyRetryMs?: number,
): { processor: BatchProcessor; dead: { record: RawRecord; error: SyncError }[]; started: string[] } {
  const dead: { record: RawRecord; error: SyncError }[] = [];
  const started: string[] = [];
  const applier = {
    async apply(username: string, intents: UserIntent[]): Promise<UserApplyReport> {
      started.push(username);
      await apply(username);
      return { username, calls: intents.map(() => 'AdminDeleteUser' as const), skips: [], reads: 1 };
    },
  } as unknown as UserApplier;
  const p = new BatchProcessor({
    decoder: {
      decode: async (raw) => ({
        ok: true,
        value: {
          kind: 'event',
          event: {
            table: 'users',
            key: { username: raw.value!.toString() },
            op: 'd',
            before: null,
            after: null,
            version: '1',
            sourceTsMs: null,
            tombstone: false,
            snapshot: false,
            origin: raw,
          },
        },
      }),
    },
    map: (event) => ({
      ok: true,
      value: {
        kind: 'intents',
        intents: [
          {
            kind: 'delete',
            username: String(event.key.username),
            version: event.version,
            origin: event.origin,
            sourceTsMs: null,
          },
        ],
      },
    }),
    applier,
    dlq: { send: async (record, error) => void dead.push({ record, error }) },
    tolerance: 'all',
    concurrency: 1,
    events: noEvents,
    clock,
    ...(maxApplyRetryMs === undefined ? {} : { maxApplyRetryMs }),
  });
  return { processor: p, dead, started };
}

const control = { isActive: () => true, heartbeat: () => Promise.resolve() };

describe('retry with a cap per user', () => {
  test('a user failing with a retriable error goes to the DLQ with its last error after maxApplyRetryMs; the others are applied and the batch commits', async () => {
    const clock = virtualClock();
    let attempts = 0;
    const { processor: p, dead } = processor(
      async (username) => {
        if (username !== 'stuck') return;
        attempts++;
        throw toApiError(
          'AdminUpdateUserAttributes',
          awsError('InternalErrorException', 500, `server error #${attempts}`),
        );
      },
      clock,
      120_000,
    );

    const outcome: BatchOutcome = await p.process(records(['a', 'stuck', 'b']), control);

    expect(outcome).toMatchObject({ commitOffset: '3', incomplete: false });
    expect(dead.map((d) => d.record.value!.toString())).toEqual(['stuck']);
    expect(dead[0]!.error).toMatchObject({
      code: 'InternalErrorException',
      message: expect.stringContaining(`server error #${attempts}`),
    });
    // retried until the cap, not beyond it by more than one backoff (at most 30 s)
    expect(clock.t).toBeGreaterThanOrEqual(120_000);
    expect(clock.t).toBeLessThan(120_000 + 30_001);
    expect(attempts).toBeGreaterThan(3);
  });

  test('a user whose retriable failures end before the cap is applied, and nothing is dead-lettered', async () => {
    const clock = virtualClock();
    const { processor: p, dead } = processor(
      async () => {
        if (clock.t < 60_000) throw toApiError('AdminCreateUser', awsError('TooManyRequestsException', 400));
      },
      clock,
      120_000,
    );

    const outcome = await p.process(records(['a']), control);

    expect(outcome).toMatchObject({ commitOffset: '1', incomplete: false, calls: 1 });
    expect(dead).toEqual([]);
  });

  test('without a configured cap the default (5 minutes) still ends the retries', async () => {
    const clock = virtualClock();
    const { processor: p, dead } = processor(async () => {
      throw toApiError('AdminGetUser', awsError('Error', undefined, 'connect ECONNREFUSED 127.0.0.1:9229'));
    }, clock);

    await p.process(records(['a']), control);

    expect(dead).toHaveLength(1);
    expect(clock.t).toBeGreaterThanOrEqual(300_000);
    expect(clock.t).toBeLessThan(330_001);
  });
});

describe('an error that stops the pipeline', () => {
  test.each([
    [
      'no credentials',
      awsError('CredentialsProviderError', undefined, 'Could not load credentials from any providers'),
      /^no AWS credentials could be loaded/,
    ],
    [
      'a missing permission',
      awsError(
        'AccessDeniedException',
        400,
        'User: arn:aws:iam::1:user/sync is not authorized to perform: cognito-idp:AdminGetUser',
      ),
      /^the AWS credentials are not allowed to call AdminGetUser/,
    ],
    [
      'an unknown pool',
      awsError('ResourceNotFoundException', 400, 'User pool us-east-1_x does not exist.'),
      /^the user pool does not exist/,
    ],
  ])(
    '%s: the batch stops with one sentence naming the cause, no record dead-lettered, no new user started',
    async (_, error, sentence) => {
      const clock = virtualClock();
      const {
        processor: p,
        dead,
        started,
      } = processor(async () => {
        throw toApiError('AdminGetUser', error);
      }, clock);

      const stopped = await p.process(records(['a', 'b', 'c']), control).then(
        () => undefined,
        (thrown: unknown) => thrown,
      );

      expect(stopped).toBeInstanceOf(PipelineStoppedError);
      expect((stopped as Error).message).toMatch(sentence);
      expect((stopped as Error).message).not.toMatch(/\n/);
      expect(dead).toEqual([]);
      expect(started).toEqual(['a']); // concurrency 1: the first failure ends the batch
      expect(clock.t).toBe(0); // no backoff, no retry
    },
  );

  test('other users that end normally before the stop keep their ends; nothing of the batch is committed', async () => {
    const clock = virtualClock();
    const { processor: p, dead } = processor(async (username) => {
      if (username === 'bad') throw toApiError('AdminUpdateUserAttributes', awsError('InvalidParameterException', 400));
      if (username === 'denied') throw toApiError('AdminUpdateUserAttributes', awsError('AccessDeniedException', 400));
    }, clock);

    await expect(p.process(records(['ok', 'bad', 'denied', 'later']), control)).rejects.toBeInstanceOf(
      PipelineStoppedError,
    );
    // the refused record is that record's fault; 'later' was never started, so never dead-lettered
    expect(dead.map((d) => d.record.value!.toString())).toEqual(['bad']);
  });
});
