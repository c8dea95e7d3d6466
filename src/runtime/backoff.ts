// Exponential backoff with full jitter; defaults in one place.
export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  factor: number;
  random?: () => number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 250, maxMs: 30_000, factor: 2 };

/** Delay before attempt `attempt` (1-based retry count): random in [cap/2, cap]. */
export function backoffDelay(attempt: number, options: BackoffOptions = DEFAULT_BACKOFF): number {
  const cap = Math.min(options.maxMs, options.initialMs * options.factor ** Math.max(0, attempt - 1));
  const random = options.random ?? Math.random;
  return Math.round(cap / 2 + random() * (cap / 2));
}
