// A legacy user base changing the way such tables change in production, as a stream of source
// changes (one transaction each, WAL positions growing): an initial snapshot, then updates where
// 20% of the users get 80% of them and most touch only unmapped columns (last_login_at and the
// updated_at trigger), some change email/phone/names/status/tier, some change roles, a few users
// are deleted (roles cascade) and new ones sign up. Users with a large bio (TOASTed, stored out
// of line) get Debezium's unavailable-value placeholder in every update that leaves it unchanged.
import type { Position, SourceChange, UserRow } from './legacy-records.js';

/** Small, fast, seedable PRNG (mulberry32): runs are reproducible. */
export const rng = (seed: number): (() => number) => {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};

const GIVEN = ['Anna', 'Jürgen', 'Zoë', 'José', '博', 'Taro', 'Amélie', 'Kim', 'Olu', 'Sven'];
const FAMILY = ['Müller', 'Öztürk', 'Peña', '王', 'Yamada', 'Dubois', 'Nguyen', 'Smith', "O'Connor", 'Lindqvist'];
const LOCALES = ['de-DE', 'en-US', 'fr_FR', 'ja', 'ko-KR', null];
const TIERS = ['bronze', 'silver', 'gold', 'platinum', null];
const BIG_BIO = (id: number): string =>
  `Über mich ${id}: `.padEnd(3000, 'Lorem ipsum dolor sit amet, consectetur adipiscing elit. ');

/** The kinds of change, with their share of the change stream. */
export const CHANGE_MIX = {
  login: 0.63, // last_login_at + updated_at: unmapped
  unmappedOther: 0.08, // password_hash / birthdate / bio: unmapped (a bio change arrives in full)
  email: 0.07, // a third of them only change the case (lowercased by the mapping: nothing to write)
  phone: 0.05,
  names: 0.05,
  status: 0.04,
  tier: 0.03, // loyalty_tier / marketing_opt_in
  role: 0.02, // user_roles insert/delete
  delete: 0.015,
  insert: 0.015,
} as const;
export type ChangeKind = keyof typeof CHANGE_MIX;

export interface WorkloadOptions {
  users: number;
  seed?: number;
  /** Share of users whose bio is large enough to be TOASTed. */
  toastShare?: number;
  /** Share of users that receive `hotUpdates` of the updates. */
  hotShare?: number;
  hotUpdates?: number;
  /** Overrides of CHANGE_MIX shares (the rest keep theirs; shares are not renormalised). */
  mix?: Partial<Record<ChangeKind, number>>;
}

export class LegacyWorkload {
  readonly rows = new Map<number, UserRow>();
  readonly roles = new Map<number, Set<string>>();
  readonly kinds: Record<ChangeKind, number> = {
    login: 0,
    unmappedOther: 0,
    email: 0,
    phone: 0,
    names: 0,
    status: 0,
    tier: 0,
    role: 0,
    delete: 0,
    insert: 0,
  };
  private readonly random: () => number;
  /** Slot -> user id; the first `hot` slots are the hot users. A deleted user's slot goes to a new sign-up. */
  private readonly slots: number[] = [];
  private readonly hot: number;
  private nextId = 1;
  private lsn = 300_000_000;
  private lastCommitLsn: number | null = null;
  private txId = 900;
  private clockMs = 1_795_000_000_000;
  private readonly cumulative: [ChangeKind, number][];

  constructor(private readonly o: WorkloadOptions) {
    this.random = rng(o.seed ?? 42);
    this.hot = Math.max(1, Math.round(o.users * (o.hotShare ?? 0.2)));
    let sum = 0;
    this.cumulative = (Object.entries({ ...CHANGE_MIX, ...o.mix }) as [ChangeKind, number][]).map(([k, p]) => [
      k,
      (sum += p),
    ]);
    for (let i = 0; i < o.users; i++) {
      const row = this.newRow();
      this.rows.set(row.id, row);
      this.roles.set(row.id, new Set(i % 50 === 0 ? ['customer', 'support'] : ['customer']));
      this.slots.push(row.id);
    }
  }

  private pick<T>(list: readonly T[]): T {
    return list[Math.floor(this.random() * list.length)] as T;
  }

  private timestamp(): string {
    this.clockMs += 1 + Math.floor(this.random() * 20);
    return new Date(this.clockMs).toISOString().replace('Z', '123Z'); // ZonedTimestamp: microseconds
  }

  private newRow(): UserRow {
    const id = this.nextId++;
    const given = this.pick(GIVEN);
    const family = this.pick(FAMILY);
    const created = this.timestamp();
    return {
      id,
      username: `${given.toLowerCase()}.${id}`,
      email: this.random() < 0.3 ? ` ${given}.${id}@Example.COM` : `${given.toLowerCase()}.${id}@example.com`,
      email_verified: this.random() < 0.7,
      phone:
        this.random() < 0.25
          ? null
          : this.random() < 0.5
            ? `0151 ${String(2_000_000 + id).slice(-7)}`
            : `+49 151 ${String(3_000_000 + id).slice(-7)}`,
      phone_verified: false,
      given_name: given,
      family_name: family,
      locale: this.pick(LOCALES),
      status: this.random() < 0.9 ? 'active' : 'suspended',
      created_at: created,
      updated_at: created,
      loyalty_tier: this.pick(TIERS),
      marketing_opt_in: this.random() < 0.4,
      legacy_customer_no: BigInt(100_000_000 + id),
      birthdate: 3000 + Math.floor(this.random() * 15_000),
      bio: this.random() < (this.o.toastShare ?? 0.15) ? BIG_BIO(id) : this.random() < 0.5 ? null : `Kurz: ${given}`,
      last_login_at: this.random() < 0.8 ? created : null,
      password_hash: `$2b$10$${String(id).padStart(53, 'x')}`,
    };
  }

  /** A TOASTed bio: stored out of line (> 2 KB), so an update that leaves it alone cannot send it. */
  private static toasted(row: UserRow): boolean {
    return row.bio !== null && row.bio.length > 2000;
  }

  private position(snapshot = 'false'): Position {
    this.lsn += 56 + Math.floor(this.random() * 400);
    return { lastCommitLsn: this.lastCommitLsn, lsn: this.lsn, txId: this.txId, tsMs: this.clockMs, snapshot };
  }

  private commit(): void {
    this.lsn += 48;
    this.lastCommitLsn = this.lsn;
    this.txId++;
  }

  /** The initial snapshot: every row (op r) at one snapshot LSN, then every role row. */
  snapshot(): SourceChange[] {
    this.lsn += 1000;
    const lsn = this.lsn;
    const pos = (i: number, n: number, table: string): Position => ({
      lastCommitLsn: null,
      lsn,
      txId: this.txId,
      tsMs: this.clockMs,
      snapshot:
        i === 0 && table === 'users'
          ? 'first'
          : i === n - 1
            ? table === 'users'
              ? 'last_in_data_collection'
              : 'last'
            : 'true',
    });
    const out: SourceChange[] = [];
    const ids = [...this.rows.keys()];
    for (const [i, id] of ids.entries())
      out.push({
        table: 'users',
        op: 'r',
        row: { ...this.rows.get(id)! },
        toastBio: false,
        pos: pos(i, ids.length, 'users'),
      });
    const roleRows = ids.flatMap((id) => [...(this.roles.get(id) ?? [])].map((role) => ({ id, role })));
    for (const [i, { id, role }] of roleRows.entries())
      out.push({
        table: 'user_roles',
        op: 'r',
        userId: id,
        role,
        grantedAt: this.rows.get(id)!.created_at,
        pos: pos(i, roleRows.length, 'user_roles'),
      });
    this.txId++;
    return out;
  }

  /**
   * A re-snapshot (e.g. after the replication slot was lost and the connector offsets reset):
   * every live row and role read at the current WAL position.
   */
  resnapshot(): SourceChange[] {
    this.lastCommitLsn = null;
    const changes = this.snapshot();
    return changes;
  }

  private pickSlot(): number {
    const hotPick = this.random() < (this.o.hotUpdates ?? 0.8);
    return hotPick
      ? Math.floor(this.random() * this.hot)
      : this.hot + Math.floor(this.random() * Math.max(1, this.slots.length - this.hot));
  }

  private kind(): ChangeKind {
    const x = this.random();
    for (const [k, c] of this.cumulative) if (x < c) return k;
    return 'login';
  }

  /** One source transaction: the changes it makes, in WAL order. */
  next(): SourceChange[] {
    const kind = this.kind();
    this.kinds[kind]++;
    const slot = Math.min(this.pickSlot(), this.slots.length - 1);
    const id = this.slots[slot]!;
    const out: SourceChange[] = [];
    if (kind === 'insert' || kind === 'delete') {
      if (kind === 'delete') {
        out.push({ table: 'users', op: 'd', id, pos: this.position() });
        for (const role of this.roles.get(id) ?? []) {
          out.push({ table: 'user_roles', op: 'd', userId: id, role, grantedAt: '', pos: this.position() });
        }
        this.rows.delete(id);
        this.roles.delete(id);
      }
      // a sign-up takes the slot (a delete's slot goes to a newcomer, keeping the population stable)
      const row = this.newRow();
      this.rows.set(row.id, row);
      this.roles.set(row.id, new Set(['customer']));
      if (kind === 'insert') this.slots.push(row.id);
      else this.slots[slot] = row.id;
      if (kind === 'delete') this.commit();
      out.push({ table: 'users', op: 'c', row: { ...row }, toastBio: false, pos: this.position() });
      out.push({
        table: 'user_roles',
        op: 'c',
        userId: row.id,
        role: 'customer',
        grantedAt: row.created_at,
        pos: this.position(),
      });
      this.commit();
      return out;
    }
    if (kind === 'role') {
      const roles = this.roles.get(id)!;
      const role = 'support';
      const op = roles.has(role) ? 'd' : 'c';
      if (op === 'd') roles.delete(role);
      else roles.add(role);
      out.push({ table: 'user_roles', op, userId: id, role, grantedAt: this.timestamp(), pos: this.position() });
      this.commit();
      return out;
    }
    const row = this.rows.get(id)!;
    const next: UserRow = { ...row, updated_at: this.timestamp() };
    let bioChanged = false;
    switch (kind) {
      case 'login':
        next.last_login_at = next.updated_at;
        break;
      case 'unmappedOther': {
        const r = this.random();
        if (r < 0.4) next.password_hash = `$2b$10$${String(this.lsn).padStart(53, 'y')}`;
        else if (r < 0.7) next.birthdate = 3000 + Math.floor(this.random() * 15_000);
        else {
          next.bio = this.random() < (this.o.toastShare ?? 0.15) ? BIG_BIO(this.lsn) : `Kurz ${this.lsn}`;
          bioChanged = true;
        }
        break;
      }
      case 'email':
        next.email =
          this.random() < 0.33 && row.email !== null
            ? row.email.toUpperCase()
            : `${row.username}.${this.lsn}@example.org`;
        break;
      case 'phone':
        next.phone = this.random() < 0.2 ? null : `0170 ${String(this.lsn).slice(-7)}`;
        break;
      case 'names':
        next.given_name = this.pick(GIVEN);
        next.family_name = this.pick(FAMILY);
        break;
      case 'status':
        next.status = row.status === 'active' ? this.pick(['suspended', 'locked']) : 'active';
        break;
      case 'tier':
        if (this.random() < 0.5) next.loyalty_tier = this.pick(TIERS);
        else next.marketing_opt_in = !row.marketing_opt_in;
        break;
    }
    this.rows.set(id, next);
    const toastBio = !bioChanged && LegacyWorkload.toasted(next);
    out.push({ table: 'users', op: 'u', row: { ...next }, toastBio, pos: this.position() });
    this.commit();
    return out;
  }

  /** Change events (not transactions) until at least `n` were produced. */
  *changes(n: number): Generator<SourceChange> {
    for (let produced = 0; produced < n; ) {
      for (const change of this.next()) {
        produced++;
        yield change;
      }
    }
  }
}
