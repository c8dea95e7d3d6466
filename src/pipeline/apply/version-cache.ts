// Last applied version per username, bounded (least recently used goes first).
// An optimisation only: Cognito's version attribute is the truth. It lets a replay of an
// already-synced topic skip users without even reading them, and it remembers deletes
// (a deleted user has no attribute left to hold its version) so an older create replayed
// later cannot resurrect the user while the entry lives.
import type { Version } from '../../core/types.js';

export interface CachedVersion {
  version: Version;
  deleted: boolean;
}

export class VersionCache {
  private readonly entries = new Map<string, CachedVersion>();

  constructor(private readonly capacity: number) {}

  get(username: string): CachedVersion | undefined {
    const hit = this.entries.get(username);
    if (hit) {
      this.entries.delete(username);
      this.entries.set(username, hit);
    }
    return hit;
  }

  set(username: string, version: Version, deleted: boolean): void {
    if (this.capacity === 0) return;
    const prior = this.entries.get(username);
    if (prior && prior.version > version) return; // never move backwards
    this.entries.delete(username);
    this.entries.set(username, { version, deleted });
    if (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
  }

  /** Forget what we believe about a user (e.g. after a write that failed halfway). */
  forget(username: string): void {
    this.entries.delete(username);
  }

  get size(): number {
    return this.entries.size;
  }
}
