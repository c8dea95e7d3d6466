// Option parsers shared by the commands: a bad value is a usage error (exit 2) naming the
// option, raised by commander before anything connects anywhere.
import { InvalidArgumentError } from 'commander';

/** A whole number >= min ("3", not "3.5", "abc" or "-1"). */
export function integerArg(min: number): (value: string) => number {
  return (value: string): number => {
    const n = Number(value.trim());
    if (value.trim() === '' || !Number.isSafeInteger(n) || n < min)
      throw new InvalidArgumentError(`expected an integer >= ${min}`);
    return n;
  };
}

/** A non-blank name (a consumer group, a topic). */
export function nameArg(value: string): string {
  if (value.trim() === '') throw new InvalidArgumentError('expected a non-empty name');
  if (value !== value.trim()) throw new InvalidArgumentError('leading or trailing whitespace');
  return value;
}
