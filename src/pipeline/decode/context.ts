// What the format-independent part of decoding needs to know about the record at hand.
import type { RecordOrigin } from '../../core/types.js';
import { DecodeError } from '../../errors.js';
import type { EpochAt } from './epochs.js';
import type { PlaceholderForms } from './unavailable.js';

export interface DecodeContext {
  readonly origin: RecordOrigin;
  readonly placeholder: PlaceholderForms;
  /**
   * False on the JSON fast path, where JSON.parse may have rounded an int64 beyond 2^53.
   * Code that meets such a number throws ImpreciseNumber and the record is parsed again with
   * exact integers (rare: only huge values, so the common path stays a plain JSON.parse).
   */
  readonly precise: boolean;
  readonly tableOf: ((topic: string) => string | undefined) | undefined;
  /** The source epoch of an event by its commit time; undefined: epoch 0 (see epochs.ts). */
  readonly epochAt?: EpochAt | undefined;
}

/** Internal signal, never leaves the decoder: "parse this record again, exactly". */
export class ImpreciseNumber extends Error {}

export const decodeError = (ctx: DecodeContext, message: string, cause?: unknown): DecodeError =>
  new DecodeError(
    message,
    { topic: ctx.origin.topic, partition: ctx.origin.partition, offset: ctx.origin.offset },
    cause,
  );

/** Guards a number that must be exact (an int64 from JSON): safe, or a retry with exact parsing. */
export const checkExact = (ctx: DecodeContext, value: number): number => {
  if (!ctx.precise && !Number.isSafeInteger(value) && Number.isInteger(value)) throw new ImpreciseNumber();
  return value;
};
