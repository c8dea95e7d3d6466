/**
 * Run `fn` over items with at most `limit` in flight. After the first failure no further item
 * starts; the call rejects with that failure only once every started `fn` has settled, so the
 * caller never returns (and hands back its partition) while work of its own still runs.
 * `onFirstError` is told at once, so work in flight can stop starting calls of its own.
 */
export async function forEachLimit<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
  onFirstError?: (error: unknown) => void,
): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (failure === undefined && next < items.length) {
      const item = items[next++]!;
      try {
        await fn(item);
      } catch (error) {
        if (failure === undefined) {
          failure = { error };
          onFirstError?.(error);
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure !== undefined) throw failure.error;
}
