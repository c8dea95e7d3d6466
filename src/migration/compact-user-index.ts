// The Cognito side of `reconcile`, for pools far larger than memory as objects: an
// open-addressing hash table in typed arrays, username hash -> owned-state hash, with the
// usernames themselves appended to a temporary file (only the unmatched ones are read back).
//   per user in memory: 5 x uint32 + 1 flag byte = 21 bytes a slot, at a load factor between
//   0.35 and 0.7 (doubling): 30..60 bytes, ~40 on average; on disk: the username + 2 bytes.
//   With group memberships compared, 2 more uint32 a slot (a set hash of the user's groups):
//   29 bytes a slot, ~55 a user.
// 64-bit username hashes collide with probability ~n^2/2^65 (3e-6 at 10 million users).
import { closeSync, openSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { mkdtempSync, rmdirSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// keyHi, keyLo, stateHi, stateLo, name offset [, groupsHi, groupsLo]
const NAME = 4;
const GROUPS_HI = 5;
const GROUPS_LO = 6;
const USED = 1;
const MATCHED = 2;
const MAX_LOAD = 0.7;

export type IndexLookup = { found: false } | { found: true; sameState: boolean; sameGroups: boolean };

/** Append-only file of length-prefixed usernames; offsets fit a uint32 (4 GiB of names). */
class NameSpill {
  private readonly dir: string;
  private readonly path: string;
  private readonly fd: number;
  private buffer = Buffer.alloc(64 * 1024);
  private used = 0;
  private flushed = 0;

  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'cognito-sync-reconcile-'));
    this.path = join(this.dir, 'usernames');
    this.fd = openSync(this.path, 'w+', 0o600);
  }

  append(name: string): number {
    const bytes = Buffer.from(name, 'utf8');
    if (bytes.length > 0xffff) throw new RangeError('username longer than 65535 bytes');
    if (this.used + bytes.length + 2 > this.buffer.length) this.flush();
    const offset = this.flushed + this.used;
    if (offset > 0xffff_ffff) throw new RangeError('more than 4 GiB of usernames');
    this.buffer.writeUInt16BE(bytes.length, this.used);
    bytes.copy(this.buffer, this.used + 2);
    this.used += bytes.length + 2;
    return offset;
  }

  read(offset: number): string {
    this.flush();
    const head = Buffer.alloc(2);
    readSync(this.fd, head, 0, 2, offset);
    const body = Buffer.alloc(head.readUInt16BE(0));
    readSync(this.fd, body, 0, body.length, offset + 2);
    return body.toString('utf8');
  }

  private flush(): void {
    if (this.used === 0) return;
    writeSync(this.fd, this.buffer, 0, this.used, this.flushed);
    this.flushed += this.used;
    this.used = 0;
  }

  dispose(): void {
    closeSync(this.fd);
    unlinkSync(this.path);
    rmdirSync(this.dir);
  }
}

const keyOf = (username: string): [number, number] => {
  const d = createHash('sha1').update(username).digest();
  return [d.readUInt32BE(0), d.readUInt32BE(4)];
};

export class CompactUserIndex {
  private readonly words: number;
  private slots: Uint32Array;
  private flags: Uint8Array;
  private mask: number;
  private count = 0;
  private readonly names = new NameSpill();

  /** `withGroups`: also keep a set hash of each user's group memberships (see addGroup). */
  constructor(
    initialCapacity = 1 << 12,
    readonly withGroups = false,
  ) {
    this.words = withGroups ? 7 : 5;
    let capacity = 1;
    while (capacity < initialCapacity) capacity <<= 1;
    this.slots = new Uint32Array(capacity * this.words);
    this.flags = new Uint8Array(capacity);
    this.mask = capacity - 1;
  }

  get size(): number {
    return this.count;
  }

  /** Bytes held in memory by the table (the spill file is on disk). */
  get memoryBytes(): number {
    return this.slots.byteLength + this.flags.byteLength;
  }

  add(username: string, state: [number, number]): void {
    if ((this.count + 1) / (this.mask + 1) > MAX_LOAD) this.grow();
    const [hi, lo] = keyOf(username);
    const slot = this.find(hi, lo);
    const base = slot * this.words;
    if (!(this.flags[slot]! & USED)) {
      this.count++;
      this.slots[base] = hi;
      this.slots[base + 1] = lo;
      this.slots[base + NAME] = this.names.append(username);
    }
    this.flags[slot] = USED;
    this.slots[base + 2] = state[0];
    this.slots[base + 3] = state[1];
  }

  /**
   * Folds one membership into a user's group set hash (XOR, so memberships may come one group
   * at a time, in any order). False when the user is not indexed (not ours, or listed later).
   */
  addGroup(username: string, group: [number, number]): boolean {
    if (!this.withGroups) throw new Error('CompactUserIndex: created without groups');
    const [hi, lo] = keyOf(username);
    const slot = this.find(hi, lo);
    if (!(this.flags[slot]! & USED)) return false;
    const base = slot * this.words;
    this.slots[base + GROUPS_HI] = (this.slots[base + GROUPS_HI]! ^ group[0]) >>> 0;
    this.slots[base + GROUPS_LO] = (this.slots[base + GROUPS_LO]! ^ group[1]) >>> 0;
    return true;
  }

  /**
   * Looks a username up and marks it matched (so it is not reported as extra). `groups`, the
   * desired group set hash, is compared when the index keeps groups; otherwise sameGroups is true.
   */
  match(username: string, state: [number, number], groups?: [number, number]): IndexLookup {
    const [hi, lo] = keyOf(username);
    const slot = this.find(hi, lo);
    if (!(this.flags[slot]! & USED)) return { found: false };
    this.flags[slot]! |= MATCHED;
    const base = slot * this.words;
    const sameState = this.slots[base + 2] === state[0] && this.slots[base + 3] === state[1];
    const sameGroups =
      !this.withGroups ||
      groups === undefined ||
      (this.slots[base + GROUPS_HI] === groups[0] && this.slots[base + GROUPS_LO] === groups[1]);
    return { found: true, sameState, sameGroups };
  }

  /**
   * Marks a username matched without comparing anything: a user whose legacy row is there but
   * invalid (held at its last valid state), which must never be reported or deleted as extra.
   * False when Cognito does not hold it.
   */
  hold(username: string): boolean {
    const [hi, lo] = keyOf(username);
    const slot = this.find(hi, lo);
    if (!(this.flags[slot]! & USED)) return false;
    this.flags[slot]! |= MATCHED;
    return true;
  }

  /** Usernames never matched, read back from the spill file. */
  *unmatched(): Generator<string> {
    for (let slot = 0; slot <= this.mask; slot++) {
      if (this.flags[slot] === USED) yield this.names.read(this.slots[slot * this.words + NAME]!);
    }
  }

  dispose(): void {
    this.names.dispose();
  }

  /** Linear probing: the slot holding (hi, lo), or the empty slot where it belongs. */
  private find(hi: number, lo: number): number {
    let slot = lo & this.mask;
    for (;;) {
      if (!(this.flags[slot]! & USED)) return slot;
      const base = slot * this.words;
      if (this.slots[base] === hi && this.slots[base + 1] === lo) return slot;
      slot = (slot + 1) & this.mask;
    }
  }

  private grow(): void {
    const oldSlots = this.slots;
    const oldFlags = this.flags;
    const capacity = (this.mask + 1) * 2;
    const words = this.words;
    this.slots = new Uint32Array(capacity * words);
    this.flags = new Uint8Array(capacity);
    this.mask = capacity - 1;
    for (let slot = 0; slot < oldFlags.length; slot++) {
      if (!(oldFlags[slot]! & USED)) continue;
      const base = slot * words;
      const to = this.find(oldSlots[base]!, oldSlots[base + 1]!);
      this.slots.set(oldSlots.subarray(base, base + words), to * words);
      this.flags[to] = oldFlags[slot]!;
    }
  }
}
