// A steady writer on the shared legacy `users` table, on users of its own (usernames
// `soak.<run>.<n>`): inserts, updates and deletes at a fixed rate, each change its own
// transaction, never two in flight for one user. Latency probes: now and then a change is
// followed in Cognito (AdminGetUser every 100 ms) until it is visible.
import type pg from 'pg';

export interface SoakUser {
  id: number;
  /** Legacy login name (column `username`); the Cognito username is legacy_<id>. */
  login: string;
  email: string;
  phone: string;
  given: string;
  family: string;
  status: 'active' | 'suspended';
  tier: 'bronze' | 'silver' | 'gold' | 'platinum';
  alive: boolean;
}

export interface WriterStats {
  inserts: number;
  updates: number;
  deletes: number;
  errors: number;
  firstError?: string;
  /** Changes that were due but issued late because the database lagged (ms behind, max). */
  maxBehindMs: number;
  startedAt: number;
  stoppedAt: number;
}

export type ProbeCheck = (user: SoakUser) => Promise<boolean>;

export interface Probe {
  kind: 'insert' | 'update';
  committedAt: number;
  seenAt?: number;
}

const TIERS = ['bronze', 'silver', 'gold', 'platinum'] as const;

export class SteadyWriter {
  readonly users = new Map<number, SoakUser>();
  readonly stats: WriterStats = {
    inserts: 0,
    updates: 0,
    deletes: 0,
    errors: 0,
    maxBehindMs: 0,
    startedAt: 0,
    stoppedAt: 0,
  };
  readonly probes: Probe[] = [];
  private readonly busy = new Set<number>();
  private seq = 0;
  private issued = 0;
  private inFlight = 0;
  private running = false;
  private loop?: Promise<void>;
  private readonly pendingProbes = new Set<Promise<void>>();
  private lastProbeAt = 0;

  constructor(
    private readonly db: pg.Pool,
    private readonly o: {
      run: string;
      /** Changes per second. */
      rate: number;
      /** Live users the mix steers towards (inserts dominate below, updates/deletes above). */
      targetLive: number;
      /** At most this many changes in flight (the pool size). */
      maxInFlight: number;
      /** True once the change is visible in Cognito. */
      visible: (user: SoakUser) => Promise<boolean>;
      probeEveryMs: number;
      probeTimeoutMs: number;
    },
  ) {}

  start(): void {
    this.running = true;
    this.stats.startedAt = Date.now();
    this.loop = this.run();
  }

  /** Stops issuing; resolves once every change in flight committed and every probe ended. */
  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    this.stats.stoppedAt = Date.now();
    while (this.inFlight > 0) await new Promise((r) => setTimeout(r, 20));
    await Promise.all([...this.pendingProbes]);
  }

  get alive(): SoakUser[] {
    return [...this.users.values()].filter((u) => u.alive);
  }

  private async run(): Promise<void> {
    while (this.running) {
      const elapsed = Date.now() - this.stats.startedAt;
      const due = Math.floor((elapsed / 1000) * this.o.rate);
      while (this.issued < due && this.inFlight < this.o.maxInFlight) {
        this.issued++;
        const behind = elapsed - (this.issued / this.o.rate) * 1000;
        if (behind > this.stats.maxBehindMs) this.stats.maxBehindMs = behind;
        this.inFlight++;
        void this.change().finally(() => this.inFlight--);
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  private pickIdle(): SoakUser | undefined {
    const candidates = this.alive.filter((u) => !this.busy.has(u.id));
    return candidates[Math.floor(Math.random() * candidates.length)];
  }

  private async change(): Promise<void> {
    const live = this.alive.length;
    const r = Math.random();
    const [pInsert, pUpdate] = live < this.o.targetLive ? [0.5, 0.4] : [0.25, 0.5];
    const probe = Date.now() - this.lastProbeAt >= this.o.probeEveryMs;
    try {
      if (r < pInsert || live === 0) await this.insert(probe);
      else if (r < pInsert + pUpdate) await this.update(probe);
      else await this.delete();
    } catch (error) {
      this.stats.errors++;
      this.stats.firstError ??= error instanceof Error ? error.message : String(error);
    }
  }

  private fresh(n: number): Pick<SoakUser, 'email' | 'phone' | 'given' | 'family'> {
    const tag = `${this.o.run}${n}${(this.seq++).toString(36)}`;
    return {
      // Mixed case on purpose: the mapping lowercases, and the PII check looks for both forms.
      email: `Soak.${tag}@Soak-${this.o.run}.example`,
      phone: `+49 151 ${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`,
      given: `Sølvi${tag}`,
      family: `Soakfam${tag}`,
    };
  }

  private async insert(probe: boolean): Promise<void> {
    const n = this.stats.inserts + this.stats.errors + 1;
    const login = `soak.${this.o.run}.${this.seq}`;
    const v = this.fresh(n);
    const tier = TIERS[n % TIERS.length]!;
    const { rows } = await this.db.query<{ id: string }>(
      `INSERT INTO users (username, email, email_verified, phone, given_name, family_name, locale, status, loyalty_tier, marketing_opt_in)
       VALUES ($1, $2, true, $3, $4, $5, 'de-DE', 'active', $6, true) RETURNING id`,
      [login, v.email, v.phone, v.given, v.family, tier],
    );
    const committedAt = Date.now();
    const user: SoakUser = { id: Number(rows[0]!.id), login, ...v, status: 'active', tier, alive: true };
    this.users.set(user.id, user);
    this.stats.inserts++;
    if (probe) this.follow(user, 'insert', committedAt);
  }

  private async update(probe: boolean): Promise<void> {
    const user = this.pickIdle();
    if (!user) return this.insert(probe);
    this.busy.add(user.id);
    let handedOff = false; // to the probe, which frees the user when it ends
    try {
      const next = { ...user };
      const what = Math.random();
      if (what < 0.4) next.email = this.fresh(user.id).email;
      else if (what < 0.6) next.phone = this.fresh(user.id).phone;
      else if (what < 0.8) ({ given: next.given, family: next.family } = this.fresh(user.id));
      else if (what < 0.9) next.tier = TIERS[(TIERS.indexOf(user.tier) + 1) % TIERS.length]!;
      else next.status = user.status === 'active' ? 'suspended' : 'active';
      if (probe) next.email = this.fresh(user.id).email; // a probe needs a visible change
      await this.db.query(
        `UPDATE users SET email = $2, phone = $3, given_name = $4, family_name = $5, status = $6, loyalty_tier = $7 WHERE id = $1`,
        [user.id, next.email, next.phone, next.given, next.family, next.status, next.tier],
      );
      const committedAt = Date.now();
      this.users.set(user.id, next);
      this.stats.updates++;
      if (probe) {
        this.follow(next, 'update', committedAt);
        handedOff = true;
      }
    } finally {
      if (!handedOff) this.busy.delete(user.id);
    }
  }

  private async delete(): Promise<void> {
    const user = this.pickIdle();
    if (!user) return;
    this.busy.add(user.id);
    try {
      await this.db.query('DELETE FROM users WHERE id = $1', [user.id]);
      this.users.set(user.id, { ...user, alive: false });
      this.stats.deletes++;
    } finally {
      this.busy.delete(user.id);
    }
  }

  /** Poll Cognito until the change is visible; the user is left alone meanwhile. */
  private follow(user: SoakUser, kind: Probe['kind'], committedAt: number): void {
    this.lastProbeAt = Date.now();
    const probe: Probe = { kind, committedAt };
    this.probes.push(probe);
    this.busy.add(user.id);
    const p = (async () => {
      try {
        while (Date.now() - committedAt < this.o.probeTimeoutMs) {
          if (await this.o.visible(user).catch(() => false)) {
            probe.seenAt = Date.now();
            return;
          }
          await new Promise((r) => setTimeout(r, 100));
        }
      } finally {
        this.busy.delete(user.id);
      }
    })();
    this.pendingProbes.add(p);
    void p.finally(() => this.pendingProbes.delete(p));
  }
}
