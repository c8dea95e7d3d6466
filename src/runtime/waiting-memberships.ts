// Role rows whose user is not in Cognito yet (createPolicy always), waiting per user.
//
// The roles topic runs ahead of the users topic whenever both have a backlog: a first backfill,
// a replay, users and role rows inserted in one large transaction. Retrying such a batch until
// the user appears cannot work (the consumer fetches nothing more of that partition while it
// waits, and the users record may sit behind it), so the rows wait here instead: their batch
// ends, the partition goes on, and the commit of their partition stays below the lowest
// waiting offset (floor) until they are resolved:
//   - applied as soon as the sync creates the user (the BatchProcessor hands them over), or
//     when a re-check finds the user (created by another instance or the User Migration trigger);
//   - dead-lettered once nothing can bring the user any more: the users topic this process
//     reads is caught up and the user's own record went to the DLQ, or the user did not appear
//     within missingUserTimeoutMs of the users topic being caught up (a users batch still being
//     applied is not caught up: its users may be created long after it was fetched).
// Memory is bounded per partition: above `maxPerPartition` waiting records the partition
// reports backpressure and the consumer pauses it until the count halves.
// A rebalance drops the partitions' waiting rows: the next owner reads them again from the
// committed offset, which is below them.
// The same machinery holds users whose change waits for another user to free an alias value
// (alias-conflicts.ts): such an entry names its `holder`, and is retried when the holder's
// change applies or on its re-check; the alias resolver bounds its wait.
import type { RawRecord, UserIntent } from '../core/types.js';

export interface Waiting {
  username: string;
  intents: UserIntent[];
  records: RawRecord[];
  /** Clock time the first of them started waiting. */
  since: number;
  /** Clock time of the next re-check (a read of the user). */
  checkAt: number;
  checks: number;
  /** Waits on an alias conflict: the user holding the value (retried when that user changes). */
  holder?: string;
}

export interface WaitingOptions {
  maxPerPartition: number;
  /** First re-check delay; doubles up to 30 s. */
  recheckMs?: number;
}

const partitionOf = (r: RawRecord): string => `${r.topic}:${r.partition}`;
const recordId = (r: RawRecord): string => `${r.topic}:${r.partition}:${r.offset}`;

export class WaitingMemberships {
  private readonly byUser = new Map<string, Waiting>();
  /** holder -> users waiting for it to free an alias value. */
  private readonly byHolder = new Map<string, Set<string>>();
  /** Per partition: waiting (or being applied) offsets, with how many users each still waits for. */
  private readonly offsets = new Map<string, Map<string, number>>();
  private readonly listeners: ((partition: string) => void)[] = [];

  constructor(private readonly o: WaitingOptions) {}

  get users(): number {
    return this.byUser.size;
  }

  has(username: string): boolean {
    return this.byUser.has(username);
  }

  /** The user `username` waits for to free an alias value, if it waits on one. */
  holderOf(username: string): string | undefined {
    return this.byUser.get(username)?.holder;
  }

  /** Users waiting for `holder` to free an alias value. */
  waitingOn(holder: string): string[] {
    return [...(this.byHolder.get(holder) ?? [])];
  }

  private setHolder(entry: Waiting, holder: string | undefined): void {
    if (entry.holder === holder) return;
    this.unlinkHolder(entry);
    entry.holder = holder;
    if (holder === undefined) return;
    let waiters = this.byHolder.get(holder);
    if (!waiters) this.byHolder.set(holder, (waiters = new Set()));
    waiters.add(entry.username);
  }

  private unlinkHolder(entry: Waiting): void {
    if (entry.holder === undefined) return;
    const waiters = this.byHolder.get(entry.holder);
    waiters?.delete(entry.username);
    if (waiters?.size === 0) this.byHolder.delete(entry.holder);
    delete entry.holder;
  }

  /** Adds work for a user (merging with what already waits for it); records seen before are not counted twice. */
  park(
    username: string,
    intents: readonly UserIntent[],
    records: readonly RawRecord[],
    now: number,
    held = false,
    holder?: string,
  ): void {
    let entry = this.byUser.get(username);
    if (!entry) {
      entry = { username, intents: [], records: [], since: now, checkAt: now + (this.o.recheckMs ?? 2000), checks: 0 };
      this.byUser.set(username, entry);
    }
    // Memberships parked behind a user that waits on an alias holder keep it waiting on it.
    if (holder !== undefined) this.setHolder(entry, holder);
    const known = new Set(entry.records.map(recordId));
    entry.intents.push(...intents);
    for (const record of records) {
      if (known.has(recordId(record))) continue;
      entry.records.push(record);
      // Work coming back from a failed hand-over still holds its offsets (held): count them once.
      if (held) continue;
      let offsets = this.offsets.get(partitionOf(record));
      if (!offsets) this.offsets.set(partitionOf(record), (offsets = new Map()));
      offsets.set(record.offset, (offsets.get(record.offset) ?? 0) + 1);
    }
  }

  /** Takes a user's work out to apply it; its offsets keep holding the commit until settle(). */
  take(username: string): Waiting | undefined {
    const entry = this.byUser.get(username);
    if (entry) {
      this.byUser.delete(username);
      const holder = entry.holder;
      this.unlinkHolder(entry);
      if (holder !== undefined) entry.holder = holder; // kept on the taken entry for putBack
    }
    return entry;
  }

  /** Puts taken work back, to be re-checked after a longer delay. */
  putBack(entry: Waiting, now: number, holder = entry.holder): void {
    const checks = entry.checks + 1;
    const delay = Math.min(30_000, (this.o.recheckMs ?? 2000) * 2 ** checks);
    this.park(entry.username, entry.intents, entry.records, now, true, holder);
    const merged = this.byUser.get(entry.username) as Waiting;
    merged.since = Math.min(merged.since, entry.since);
    merged.checks = checks;
    merged.checkAt = now + delay;
  }

  /** The records are applied or dead-lettered: they no longer hold their partitions' commits. */
  settle(records: readonly RawRecord[]): void {
    const touched = new Set<string>();
    for (const record of records) {
      const key = partitionOf(record);
      const offsets = this.offsets.get(key);
      const left = (offsets?.get(record.offset) ?? 0) - 1;
      if (!offsets) continue;
      if (left > 0) offsets.set(record.offset, left);
      else offsets.delete(record.offset);
      if (offsets.size === 0) this.offsets.delete(key);
      touched.add(key);
    }
    for (const key of touched) for (const listener of this.listeners) listener(key);
  }

  /** The lowest offset still waiting in a partition ("topic:partition"), or null. */
  floor(partition: string): string | null {
    const offsets = this.offsets.get(partition);
    if (!offsets) return null;
    let lowest: bigint | null = null;
    for (const o of offsets.keys()) {
      const n = BigInt(o);
      if (lowest === null || n < lowest) lowest = n;
    }
    return lowest === null ? null : lowest.toString();
  }

  count(partition: string): number {
    return this.offsets.get(partition)?.size ?? 0;
  }

  overloaded(partition: string): boolean {
    return this.count(partition) >= this.o.maxPerPartition;
  }

  /** Called with "topic:partition" whenever records of that partition settle. */
  onSettled(listener: (partition: string) => void): void {
    this.listeners.push(listener);
  }

  /** Users whose re-check is due, oldest first, at most `limit`. */
  due(now: number, limit: number): Waiting[] {
    const out: Waiting[] = [];
    for (const entry of this.byUser.values()) {
      if (entry.checkAt <= now) out.push(entry);
      if (out.length >= limit) break;
    }
    return out;
  }

  /** Forgets everything waiting from partitions this member no longer owns. */
  dropPartitions(owned: (partition: string) => boolean): void {
    for (const [username, entry] of this.byUser) {
      const kept = entry.records.filter((r) => owned(partitionOf(r)));
      if (kept.length === entry.records.length) continue;
      if (kept.length === 0) {
        this.byUser.delete(username);
        this.unlinkHolder(entry);
      } else entry.records = kept;
      // Intents cannot be told apart by record: keep them (a re-delivered row is idempotent).
    }
    for (const key of [...this.offsets.keys()]) if (!owned(key)) this.offsets.delete(key);
  }
}
