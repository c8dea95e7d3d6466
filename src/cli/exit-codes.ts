// Exit codes scripts can rely on.
export const EXIT = {
  ok: 0,
  /** The sync or a command failed at run time (details in the log). */
  failure: 1,
  /** Bad config, mapping or arguments: nothing was started. */
  usage: 2,
  /**
   * Finished, but something needs a person: reconcile found drift; lag found a partition in
   * trouble; run --until-caught-up / replay --run caught up with records dead-lettered on
   * the way; dlq redrive had records fail again; assess found rows Cognito would refuse.
   */
  attention: 3,
} as const;
