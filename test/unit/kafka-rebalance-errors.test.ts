// A commit refused because the member was expelled must not crash `cognito-sync run`. The
// errors are kafkajs's own classes, built the way its retrier builds them.
import { describe, expect, test } from '@jest/globals';
import kafkajs from 'kafkajs';
import { isRebalanceError } from '../../src/adapters/kafka/rebalance-errors.js';

const { KafkaJSNonRetriableError, KafkaJSProtocolError, KafkaJSNumberOfRetriesExceeded } = kafkajs as unknown as Record<
  string,
  new (
    e: unknown,
    o?: unknown,
  ) => Error
>;

const protocolError = (type: string, code: number): Error =>
  new KafkaJSProtocolError!({ type, code, retriable: false, message: `broker said ${type}` }, { retriable: false });

describe('group-membership errors are recognised however kafkajs wraps them', () => {
  test('the protocol error itself', () => {
    expect(isRebalanceError(protocolError('UNKNOWN_MEMBER_ID', 25))).toBe(true);
    expect(isRebalanceError(protocolError('REBALANCE_IN_PROGRESS', 27))).toBe(true);
    expect(isRebalanceError(protocolError('ILLEGAL_GENERATION', 22))).toBe(true);
  });

  test('wrapped by the retrier once it gives up (the error a refused commit throws)', () => {
    const inner = protocolError('UNKNOWN_MEMBER_ID', 25);
    expect(isRebalanceError(new KafkaJSNonRetriableError!(inner, { cause: inner }))).toBe(true);
    expect(
      isRebalanceError(new KafkaJSNumberOfRetriesExceeded!(inner, { cause: inner, retryCount: 5, retryTime: 1000 })),
    ).toBe(true);
  });

  test('other errors are not', () => {
    const other = protocolError('TOPIC_AUTHORIZATION_FAILED', 29);
    expect(isRebalanceError(other)).toBe(false);
    expect(isRebalanceError(new KafkaJSNonRetriableError!(other, { cause: other }))).toBe(false);
    expect(isRebalanceError(new Error('socket hang up'))).toBe(false);
    expect(isRebalanceError(undefined)).toBe(false);
  });
});
