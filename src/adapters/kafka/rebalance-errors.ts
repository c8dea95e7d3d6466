// Group-membership errors: the member was expelled (session timeout) or the group is
// rebalancing. They are not failures of the sync: the partition's next owner (this process,
// after kafkajs rejoins) re-reads from the last commit and the version guard skips what is
// already in Cognito.
const REBALANCE_ERRORS = new Set([
  'REBALANCE_IN_PROGRESS',
  'UNKNOWN_MEMBER_ID',
  'ILLEGAL_GENERATION',
  'NOT_COORDINATOR',
  'NOT_COORDINATOR_FOR_GROUP',
]);

/**
 * True when `error`, or an error it wraps, is a group-membership error. kafkajs wraps the
 * protocol error once its retrier gives up (KafkaJSNonRetriableError, cause = the protocol
 * error), so the type has to be looked for along the cause chain.
 */
export const isRebalanceError = (error: unknown): boolean => {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth++) {
    const type = (current as { type?: unknown }).type;
    if (typeof type === 'string' && REBALANCE_ERRORS.has(type)) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
};
