// Exit codes scripts can rely on.
export const EXIT = {
  ok: 0,
  /** The sync or a command failed at run time (details in the log). */
  failure: 1,
  /** Bad config, mapping or arguments: nothing was started. */
  usage: 2,
  /** reconcile found drift / lag found a partition in trouble. */
  attention: 3,
} as const;
