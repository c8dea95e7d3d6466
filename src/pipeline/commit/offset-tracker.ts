// Which offset of a partition may be committed: the lowest offset whose effect is not yet
// durable in Cognito (or the DLQ) bounds the commit. Pure bookkeeping, no Kafka here.

export class OffsetTracker {
  /** Offsets handed out and not yet finished, in ascending order of arrival. */
  private readonly pending = new Set<bigint>();
  private highestSeen: bigint | null = null;

  track(offset: string): void {
    const o = BigInt(offset);
    this.pending.add(o);
    if (this.highestSeen === null || o > this.highestSeen) this.highestSeen = o;
  }

  done(offset: string): void {
    this.pending.delete(BigInt(offset));
  }

  /**
   * The offset to commit (Kafka semantics: the next offset to read), or null when nothing
   * new is committable. Everything below the lowest pending offset is done.
   */
  committable(): string | null {
    if (this.highestSeen === null) return null;
    let lowest: bigint | null = null;
    for (const o of this.pending) if (lowest === null || o < lowest) lowest = o;
    return (lowest ?? this.highestSeen + 1n).toString();
  }

  get inFlight(): number {
    return this.pending.size;
  }
}
