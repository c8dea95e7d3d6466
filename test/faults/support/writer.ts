// A steady write load on the legacy users table (PostgreSQL or MariaDB): inserts, updates and
// deletes of this scenario's own rows (usernames "<prefix>.<n>") at a bounded rate for a bounded
// time. Every statement changes at most one row, and `events` counts the rows changed: the number
// of change events Debezium must deliver.
import type { LegacySource, SqlClient } from '../../e2e/support/sources.js';

export interface WriterOptions {
  /** Statements per second. */
  rate: number;
  /** Rows of this writer alive at most; above it, no inserts. */
  maxLive?: number;
  /** Share of inserts / deletes (the rest are updates) while below maxLive. */
  insertShare?: number;
  deleteShare?: number;
  /** Every n-th step is a transaction of 3 changes (an insert and two updates of one row). */
  transactionEvery?: number;
}

const TIERS = ['bronze', 'silver', 'gold', 'platinum', null];
const STATUSES = ['active', 'active', 'active', 'suspended', 'locked', 'pending_verification'];

export class Writer {
  /** Change events committed (one per row changed). */
  events = 0;
  readonly byOp = { insert: 0, update: 0, delete: 0 };
  /** Statements that failed (the database is never faulted here, so this should stay 0). */
  errors: string[] = [];
  readonly live: number[] = [];
  private n = 0;
  private running = false;
  private loop?: Promise<void>;

  constructor(
    readonly db: LegacySource,
    readonly prefix: string,
    private readonly o: WriterOptions,
  ) {}

  /** Runs until `durationMs` has passed or stop(); resolves when the loop has ended. */
  start(durationMs: number): Promise<void> {
    this.running = true;
    const started = Date.now();
    const interval = 1000 / this.o.rate;
    this.loop = (async () => {
      for (let step = 0; this.running && Date.now() - started < durationMs; step++) {
        try {
          await this.step(step);
        } catch (error) {
          this.errors.push(String(error));
        }
        // Pace to the rate: the next statement is due at started + step * interval.
        const due = started + (step + 1) * interval;
        const wait = due - Date.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
      this.running = false;
    })();
    return this.loop;
  }

  /** As fast as one connection goes: `n` new rows. */
  async fill(n: number): Promise<void> {
    for (let i = 0; i < n; i++) await this.insert();
  }

  /** As fast as one connection goes: every live row updated `times` times. */
  async burst(times: number): Promise<number> {
    const ids = [...this.live];
    for (let t = 0; t < times; t++) for (const id of ids) await this.update(this.db, id);
    return ids.length * times;
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  private async step(step: number): Promise<void> {
    const maxLive = this.o.maxLive ?? 200;
    if (this.o.transactionEvery && step > 0 && step % this.o.transactionEvery === 0) return this.transaction();
    const r = Math.random();
    const insertShare = this.o.insertShare ?? 0.4;
    const deleteShare = this.o.deleteShare ?? 0.15;
    if (this.live.length === 0 || (r < insertShare && this.live.length < maxLive)) await this.insert();
    else if (r < insertShare + deleteShare && this.live.length > 1) await this.remove();
    else await this.update();
  }

  /** A new row; `track: false` keeps it out of the rows the load updates and deletes (probes). */
  async insert(
    client: SqlClient = this.db,
    fields: Partial<Record<string, unknown>> = {},
    track = true,
  ): Promise<number> {
    const n = ++this.n;
    const { rows } = await client.query<{ id: string }>(
      `INSERT INTO users (username, email, email_verified, phone, given_name, family_name, locale, status, loyalty_tier, marketing_opt_in, legacy_customer_no)
       VALUES ($1, $2, true, $3, $4, $5, 'de-DE', $6, $7, $8, $9) RETURNING id`,
      [
        `${this.prefix}.${n}`,
        fields.email ?? `${this.prefix}.${n}@example.com`,
        n % 3 === 0 ? `0151 ${String(1_000_000 + n).slice(-7)}` : null,
        fields.given_name ?? `Given${n}`,
        `Family${n}`,
        'active',
        TIERS[n % TIERS.length],
        n % 2 === 0,
        100_000 + n,
      ],
    );
    const id = Number(rows[0]!.id);
    if (track) this.live.push(id);
    this.events++;
    this.byOp.insert++;
    return id;
  }

  async update(client: SqlClient = this.db, id = this.pick()): Promise<void> {
    const k = ++this.n;
    const which = k % 4;
    const sql =
      which === 0
        ? `UPDATE users SET given_name = $2 WHERE id = $1`
        : which === 1
          ? `UPDATE users SET email = $2 WHERE id = $1`
          : which === 2
            ? `UPDATE users SET status = $2 WHERE id = $1`
            : `UPDATE users SET loyalty_tier = $2, marketing_opt_in = NOT marketing_opt_in WHERE id = $1`;
    const value =
      which === 0
        ? `Renamed${k}`
        : which === 1
          ? `${this.prefix}.u${k}@example.com`
          : which === 2
            ? STATUSES[k % STATUSES.length]
            : TIERS[k % TIERS.length];
    const result = await client.query(sql, [id, value]);
    this.events += result.rowCount;
    this.byOp.update += result.rowCount;
  }

  async remove(): Promise<void> {
    const index = Math.floor(Math.random() * this.live.length);
    const [id] = this.live.splice(index, 1);
    const result = await this.db.query(`DELETE FROM users WHERE id = $1`, [id]);
    this.events += result.rowCount;
    this.byOp.delete += result.rowCount;
  }

  /** Three changes in one transaction: one insert and two updates of the same new row. */
  private async transaction(): Promise<void> {
    const before = {
      events: this.events,
      insert: this.byOp.insert,
      update: this.byOp.update,
      live: this.live.length,
    };
    try {
      await this.db.transaction(async (tx) => {
        const id = await this.insert(tx);
        await this.update(tx, id);
        await this.update(tx, id);
      });
    } catch (error) {
      // rolled back: none of its changes happened
      this.events = before.events;
      this.byOp.insert = before.insert;
      this.byOp.update = before.update;
      this.live.length = before.live;
      throw error;
    }
  }

  private pick(): number {
    return this.live[Math.floor(Math.random() * this.live.length)]!;
  }
}
