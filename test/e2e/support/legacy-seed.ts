// The users rows the migration e2e tests plant, the same on PostgreSQL and MariaDB: one set of
// defaults, so the two databases hold the same rows and `assess`/`reconcile` must report the same.

/** One users row to insert; what is left out takes a clean default. */
export interface Seed {
  id: number;
  email?: string | null;
  phone?: string | null;
  given?: string | null;
  status?: string;
  tier?: string | null;
}

/** The row's id, username, email, phone, given_name, status and loyalty_tier, in this order (each test's INSERT has the placeholders). */
export const seedValues = (u: Seed): unknown[] => [
  u.id,
  `user${u.id}`,
  u.email === undefined ? `user${u.id}@example.com` : u.email,
  u.phone ?? null,
  u.given === undefined ? `Given${u.id}` : u.given,
  u.status ?? 'active',
  u.tier === undefined ? 'gold' : u.tier,
];
