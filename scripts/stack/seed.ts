// Seed the legacy `users` / `user_roles` tables with realistic, messy, deterministic data.
//
//   node_modules/.bin/node --experimental-strip-types scripts/stack/seed.ts --users 100000 [--seed 42]
//       [--start 1] [--batch 2000] [--db postgres|mariadb] [--url postgres://...|mysql://...]
//       [--big-bio-ratio 0.01] [--quiet]
//
// Usernames are derived from (seed, index), and inserts skip existing usernames (ON CONFLICT DO
// NOTHING / INSERT IGNORE), so re-running with the same arguments adds nothing; use --start to
// add more users. The same arguments give the same rows in PostgreSQL and in MariaDB.
// Connection: --url (its scheme picks the database), else for --db postgres (the default)
// $PG_URL, for --db mariadb $MARIADB_URL, else $STACK_DIR/env.json (written by scripts/stack/up.sh).
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import mysql from 'mysql2/promise';

const here = dirname(fileURLToPath(import.meta.url));
const { values: opts } = parseArgs({
  options: {
    users: { type: 'string', default: '1000' },
    seed: { type: 'string', default: '1' },
    start: { type: 'string', default: '1' },
    batch: { type: 'string', default: '2000' },
    url: { type: 'string' },
    db: { type: 'string', default: 'postgres' },
    'big-bio-ratio': { type: 'string', default: '0.01' },
    quiet: { type: 'boolean', default: false },
  },
});

function dbUrl(): string {
  if (opts.url) return opts.url;
  if (opts.db !== 'postgres' && opts.db !== 'mariadb')
    throw new Error(`--db must be postgres or mariadb, not ${opts.db}`);
  const variable = opts.db === 'mariadb' ? 'MARIADB_URL' : 'PG_URL';
  if (process.env[variable]) return process.env[variable];
  const file = resolve(process.env.STACK_DIR ?? resolve(here, '../../.stack'), 'env.json');
  let url: string | undefined;
  try {
    url = (JSON.parse(readFileSync(file, 'utf8')) as Record<string, string | undefined>)[variable];
  } catch {
    throw new Error(`no --url, no $${variable} and no ${file}: start the stack with scripts/stack/up.sh`);
  }
  if (!url) throw new Error(`${file} has no ${variable}: start the ${opts.db} component (scripts/stack/up.sh)`);
  return url;
}

// ---- deterministic PRNG (sfc32 seeded through a string hash) -------------------------------
function hashSeed(s: string): number[] {
  let h = 1779033703 ^ s.length;
  for (let i = 0; i < s.length; i++) {
    h = Math.imul(h ^ s.charCodeAt(i), 3432918353);
    h = (h << 13) | (h >>> 19);
  }
  const out: number[] = [];
  for (let i = 0; i < 4; i++) {
    h = Math.imul(h ^ (h >>> 16), 2246822507);
    h = Math.imul(h ^ (h >>> 13), 3266489909);
    out.push((h ^= h >>> 16) >>> 0);
  }
  return out;
}
function sfc32(seed: string): () => number {
  let [a, b, c, d] = hashSeed(seed) as [number, number, number, number];
  return () => {
    a |= 0;
    b |= 0;
    c |= 0;
    d |= 0;
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
}

type Rand = () => number;
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
const chance = (r: Rand, p: number): boolean => r() < p;
const int = (r: Rand, lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));
function weighted<T>(r: Rand, table: readonly (readonly [T, number])[]): T {
  const total = table.reduce((s, [, w]) => s + w, 0);
  let x = r() * total;
  for (const [v, w] of table) if ((x -= w) < 0) return v;
  return table[table.length - 1]![0];
}

// ---- vocabularies ---------------------------------------------------------------------------
interface NameSet {
  given: readonly string[];
  family: readonly string[];
  locales: readonly (string | null)[];
  phones: readonly ((r: Rand) => string)[];
  weight: number;
}
const digits = (r: Rand, n: number): string => Array.from({ length: n }, () => String(int(r, 0, 9))).join('');
const NAME_SETS: readonly NameSet[] = [
  {
    weight: 40,
    given: [
      'James',
      'Mary',
      'Robert',
      'Patricia',
      'John',
      'Jennifer',
      'Michael',
      'Linda',
      'David',
      'Elizabeth',
      'Chris',
      'Ashley',
      "D'Andre",
      'Mary-Kate',
      'Zoë',
      'Renée',
    ],
    family: [
      'Smith',
      'Johnson',
      'Williams',
      'Brown',
      'Jones',
      'Garcia',
      'Miller',
      'Davis',
      "O'Connor",
      'McDonald',
      'Van der Berg',
      'Nguyen',
      'Lee',
    ],
    locales: ['en-US', 'en_US', 'en', 'EN-us', null],
    phones: [
      (r) => `+1${int(r, 201, 989)}555${digits(r, 4)}`,
      (r) => `(${int(r, 201, 989)}) 555-${digits(r, 4)}`,
      (r) => `${int(r, 201, 989)}.555.${digits(r, 4)}`,
      (r) => `1-${int(r, 201, 989)}-555-${digits(r, 4)}`,
      (r) => `555-${digits(r, 4)} ext ${int(r, 1, 99)}`,
    ],
  },
  {
    weight: 12,
    given: ['François', 'Hélène', 'Jérôme', 'Chloé', 'Anaïs', 'Benoît', 'Cécile', 'Loïc', 'Maëlle', 'Noël'],
    family: ['Dupont', 'Lefèvre', 'Bélanger', 'Gauthier', 'Côté', 'Leroy', 'Moreau', 'de la Fontaine', 'Girard-Pérez'],
    locales: ['fr-FR', 'fr_FR', 'fr', 'fr-CA'],
    phones: [
      (r) => `+33 6 ${digits(r, 2)} ${digits(r, 2)} ${digits(r, 2)} ${digits(r, 2)}`,
      (r) => `06${digits(r, 8)}`,
      (r) => `+336${digits(r, 8)}`,
    ],
  },
  {
    weight: 12,
    given: ['Jürgen', 'Björn', 'Søren', 'Øyvind', 'Åsa', 'Jörg', 'Märta', 'Uwe', 'Lükas', 'Anneliese'],
    family: ['Müller', 'Schäfer', 'Groß', 'Weiß', 'Østergaard', 'Ångström', 'Schröder', 'Jäger', 'Nüßlein'],
    locales: ['de-DE', 'de_DE', 'de', 'sv-SE', 'nb-NO', 'da'],
    phones: [
      (r) => `+49 151 ${digits(r, 8)}`,
      (r) => `0049 151 ${digits(r, 8)}`,
      (r) => `0151/${digits(r, 7)}`,
      (r) => `+46 70 ${digits(r, 3)} ${digits(r, 2)} ${digits(r, 2)}`,
    ],
  },
  {
    weight: 8,
    given: ['José', 'María', 'Joaquín', 'Inés', 'Ñuflo', 'Begoña', 'João', 'Conceição', 'Gonçalo', 'Lúcia'],
    family: ['García', 'Martínez', 'Peña', 'Muñoz', 'Ibáñez', 'Gonçalves', 'Simões', 'Núñez de Arce'],
    locales: ['es-ES', 'es-419', 'es_MX', 'pt-BR', 'pt_PT'],
    phones: [
      (r) => `+34 6${digits(r, 2)} ${digits(r, 3)} ${digits(r, 3)}`,
      (r) => `+55 11 9${digits(r, 4)}-${digits(r, 4)}`,
      (r) => `+52${digits(r, 10)}`,
    ],
  },
  {
    weight: 6,
    given: ['Łukasz', 'Agnieszka', 'Wojciech', 'Zdeněk', 'Jiří', 'Ľubomír', 'Dragoș', 'Mihály', 'Gergő', 'Ștefan'],
    family: ['Wiśniewski', 'Żółkiewska', 'Dvořák', 'Novák', 'Ďurica', 'Kovács', 'Szőke', 'Popescu-Țurcanu'],
    locales: ['pl-PL', 'cs', 'sk-SK', 'ro-RO', 'hu'],
    phones: [
      (r) => `+48 ${digits(r, 3)} ${digits(r, 3)} ${digits(r, 3)}`,
      (r) => `+420${digits(r, 9)}`,
      (r) => `+40 7${digits(r, 2)} ${digits(r, 3)} ${digits(r, 3)}`,
    ],
  },
  {
    weight: 5,
    given: ['Алексей', 'Наталья', 'Дмитрий', 'Ольга', 'Γιώργος', 'Ελένη', 'Νίκος'],
    family: ['Иванов', 'Смирнова', 'Кузнецов', 'Попова', 'Παπαδόπουλος', 'Οικονόμου'],
    locales: ['ru-RU', 'ru', 'uk-UA', 'el-GR'],
    phones: [
      (r) => `+7 9${digits(r, 2)} ${digits(r, 3)}-${digits(r, 2)}-${digits(r, 2)}`,
      (r) => `8 (9${digits(r, 2)}) ${digits(r, 3)}-${digits(r, 2)}-${digits(r, 2)}`,
      (r) => `+30 69${digits(r, 8)}`,
    ],
  },
  {
    weight: 10,
    given: ['太郎', '花子', '翔太', '美咲', '伟', '芳', '秀英', '민준', '서연', '지훈'],
    family: ['山田', '佐藤', '鈴木', '高橋', '王', '李', '张', '김', '이', '박'],
    locales: ['ja-JP', 'ja', 'zh-CN', 'zh_TW', 'ko-KR', 'ko'],
    phones: [
      (r) => `+81 90-${digits(r, 4)}-${digits(r, 4)}`,
      (r) => `090${digits(r, 8)}`,
      (r) => `+86 138 ${digits(r, 4)} ${digits(r, 4)}`,
      (r) => `+82 10-${digits(r, 4)}-${digits(r, 4)}`,
    ],
  },
  {
    weight: 7,
    given: ['Oliver', 'Amelia', 'Siobhán', 'Niamh', 'Dafydd', 'Rhiannon', 'Seán', 'Aoife'],
    family: ['Taylor', 'Evans', 'Ó Briain', 'Mac Giolla', 'Llewellyn', 'Wright', 'Hughes'],
    locales: ['en-GB', 'en_GB', 'en-IE', 'cy'],
    phones: [
      (r) => `+44 7${digits(r, 3)} ${digits(r, 6)}`,
      (r) => `07${digits(r, 3)} ${digits(r, 6)}`,
      (r) => `+44 (0)20 ${digits(r, 4)} ${digits(r, 4)}`,
      (r) => `+353 8${digits(r, 1)} ${digits(r, 3)} ${digits(r, 4)}`,
    ],
  },
];
const JUNK_PHONES = ['', 'n/a', 'none', '0000000000', '+', '12345', 'call me'];
const DOMAINS = [
  'example.com',
  'Example.COM',
  'mail.example.org',
  'example.net',
  'corp.example.co.uk',
  'EXAMPLE.de',
  'example.fr',
  'xn--mnchen-3ya.example',
  'example.jp',
];
const STATUS = [
  ['active', 85],
  ['suspended', 4],
  ['locked', 2],
  ['deleted_pending', 3],
  ['pending_verification', 6],
] as const;
const TIERS = [
  [null, 40],
  ['bronze', 30],
  ['silver', 18],
  ['gold', 9],
  ['platinum', 3],
] as const;
const LOREM =
  'Lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et dolore magna aliqua Ünïcödé çà et là 日本語のテキスト'.split(
    ' ',
  );
const B64 = './ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function asciiFold(s: string): string {
  return s
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/ß/g, 'ss')
    .replace(/[øØ]/g, 'o')
    .replace(/[łŁ]/g, 'l')
    .replace(/[æÆ]/g, 'ae');
}
const slug = (s: string): string =>
  asciiFold(s)
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '');

function words(r: Rand, n: number): string {
  return Array.from({ length: n }, () => pick(r, LOREM)).join(' ');
}

interface UserRow {
  username: string;
  email: string | null;
  email_verified: boolean;
  phone: string | null;
  phone_verified: boolean;
  given_name: string | null;
  family_name: string | null;
  locale: string | null;
  status: string;
  created_at: string;
  updated_at: string;
  loyalty_tier: string | null;
  marketing_opt_in: boolean;
  legacy_customer_no: string | null;
  birthdate: string | null;
  bio: string | null;
  last_login_at: string | null;
  password_hash: string | null;
  roles: string[];
}

const NOW = Date.UTC(2026, 0, 1);
const YEAR = 365 * 24 * 3600 * 1000;

function makeUser(seed: string, index: number, bigBioRatio: number): UserRow {
  const r = sfc32(`${seed}:${index}`); // per-index stream: row i is the same whatever the batch size
  const set = weighted(
    r,
    NAME_SETS.map((s) => [s, s.weight] as const),
  );
  let given: string | null = pick(r, set.given);
  let family: string | null = pick(r, set.family);
  if (chance(r, 0.03)) family = null;
  if (chance(r, 0.01)) given = null;
  if (chance(r, 0.02) && given) given = ` ${given} `; // untrimmed legacy input
  if (chance(r, 0.01) && family) family = family.toUpperCase();

  const gs = slug(given ?? 'user') || 'user';
  const fs = slug(family ?? '') || 'x';
  const usernameStyle = int(r, 0, 3);
  const tag = `${index}`;
  const username = [`${gs}.${fs}${tag}`, `${gs[0]}${fs}${tag}`, `${gs}_${tag}`, `user${tag}@legacy`][usernameStyle]!;

  let email: string | null = null;
  if (!chance(r, 0.04)) {
    // mostly unique; a few collision-prone shapes give the duplicates (differing by case) legacy data has
    const local = weighted(r, [
      [`${gs}.${fs}${index}`, 50],
      [`${gs[0]}${fs}${index}`, 22],
      [`${fs}.${gs}_${index}`, 15],
      [`${gs}+shop${int(r, 1, 9)}.${index}`, 8],
      [`${gs}.${fs}`, 3],
      [`${gs}${fs}${int(r, 1, 99)}`, 2],
    ] as const);
    const cased = chance(r, 0.25)
      ? local.replace(/^./, (c) => c.toUpperCase()).replace(/\.(.)/, (_m, c: string) => `.${c.toUpperCase()}`)
      : local;
    email = `${cased}@${pick(r, DOMAINS)}`;
    if (chance(r, 0.01)) email = email.replace('@', '@@'); // invalid
    if (chance(r, 0.01)) email = ` ${email}`;
    if (chance(r, 0.005)) email = email.toUpperCase();
  }

  let phone: string | null = null;
  const p = r();
  if (p < 0.55) phone = pick(r, set.phones)(r);
  else if (p < 0.6) phone = pick(r, JUNK_PHONES);

  const created = NOW - Math.floor(r() * 10 * YEAR);
  const updated = created + Math.floor(r() * (NOW - created));
  const lastLogin = chance(r, 0.15) ? null : updated + Math.floor(r() * (NOW - updated));
  const birth = chance(r, 0.4)
    ? null
    : new Date(Date.UTC(int(r, 1940, 2008), int(r, 0, 11), int(r, 1, 28))).toISOString().slice(0, 10);

  let bio: string | null = null;
  if (chance(r, bigBioRatio))
    bio = words(r, int(r, 2500, 6000)); // ~20-45 KB: stored out of line (TOAST)
  else if (chance(r, 0.2)) bio = words(r, int(r, 3, 40));

  let password_hash: string | null;
  const ph = r();
  if (ph < 0.75) password_hash = `$2b$10$${Array.from({ length: 53 }, () => pick(r, [...B64])).join('')}`;
  else if (ph < 0.9)
    password_hash = Array.from({ length: 32 }, () => pick(r, [...'0123456789abcdef'])).join(''); // legacy md5
  else password_hash = null; // SSO-only account

  const roles: string[] = [];
  if (!chance(r, 0.03)) roles.push('customer');
  if (chance(r, 0.03)) roles.push('support');
  if (chance(r, 0.01)) roles.push('admin');
  if (chance(r, 0.005)) roles.push('beta_tester'); // a role the mapping has no group for

  return {
    username,
    email,
    email_verified: email !== null && chance(r, 0.7),
    phone,
    phone_verified: phone !== null && chance(r, 0.3),
    given_name: given,
    family_name: family,
    locale: pick(r, set.locales),
    status: weighted(r, STATUS),
    created_at: new Date(created).toISOString(),
    updated_at: new Date(updated).toISOString(),
    loyalty_tier: weighted(r, TIERS),
    marketing_opt_in: chance(r, 0.35),
    legacy_customer_no: chance(r, 0.1)
      ? null
      : chance(r, 0.01)
        ? '999999999999'
        : String(int(r, 1, 9) * 1e11 + Math.floor(r() * 1e11)),
    birthdate: birth,
    bio,
    last_login_at: lastLogin === null ? null : new Date(lastLogin).toISOString(),
    password_hash,
    roles,
  };
}

const COLUMNS = [
  ['username', 'text'],
  ['email', 'text'],
  ['email_verified', 'boolean'],
  ['phone', 'text'],
  ['phone_verified', 'boolean'],
  ['given_name', 'text'],
  ['family_name', 'text'],
  ['locale', 'text'],
  ['status', 'text'],
  ['created_at', 'timestamptz'],
  ['updated_at', 'timestamptz'],
  ['loyalty_tier', 'text'],
  ['marketing_opt_in', 'boolean'],
  ['legacy_customer_no', 'numeric'],
  ['birthdate', 'date'],
  ['bio', 'text'],
  ['last_login_at', 'timestamptz'],
  ['password_hash', 'text'],
] as const;
const INSERT_USERS = `
  INSERT INTO public.users (${COLUMNS.map(([c]) => c).join(', ')})
  SELECT * FROM unnest(${COLUMNS.map(([, t], i) => `$${i + 1}::${t}[]`).join(', ')})
  ON CONFLICT (username) DO NOTHING
  RETURNING id, username`;
const INSERT_ROLES = `
  INSERT INTO public.user_roles (user_id, role)
  SELECT * FROM unnest($1::bigint[], $2::text[])
  ON CONFLICT DO NOTHING`;

/** Inserts one batch in one transaction; returns [users inserted, role rows inserted]. */
interface Writer {
  insert(rows: UserRow[]): Promise<[number, number]>;
  close(): Promise<void>;
}

async function pgWriter(url: string): Promise<Writer> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  return {
    async insert(rows) {
      const params = COLUMNS.map(([c]) => rows.map((row) => row[c]));
      try {
        await client.query('BEGIN');
        const res = await client.query<{ id: string; username: string }>(INSERT_USERS, params);
        const byName = new Map(rows.map((row) => [row.username, row.roles]));
        const ids: string[] = [];
        const roles: string[] = [];
        for (const { id, username } of res.rows)
          for (const role of byName.get(username) ?? []) {
            ids.push(id);
            roles.push(role);
          }
        if (ids.length) await client.query(INSERT_ROLES, [ids, roles]);
        await client.query('COMMIT');
        return [res.rowCount ?? 0, ids.length];
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {});
        throw err;
      }
    },
    close: () => client.end(),
  };
}

/** MariaDB/MySQL: multi-row INSERT IGNORE, then the ids of this batch's new rows by username. */
async function mysqlWriter(url: string): Promise<Writer> {
  const conn = await mysql.createConnection({
    uri: url.replace(/^mariadb:/, 'mysql:'),
    charset: 'utf8mb4',
    supportBigNumbers: true,
    bigNumberStrings: true,
  });
  // The ISO instants below are UTC; TIMESTAMP columns take them in the session zone.
  await conn.query("SET time_zone = '+00:00'");
  // 'YYYY-MM-DDTHH:MM:SS.sssZ' -> 'YYYY-MM-DD HH:MM:SS.sss' (MariaDB rejects the T/Z form).
  const value = (row: UserRow, column: (typeof COLUMNS)[number][0]): unknown => {
    const v = row[column];
    return typeof v === 'string' && /^\d{4}-\d\d-\d\dT.*Z$/.test(v) ? v.replace('T', ' ').replace('Z', '') : v;
  };
  return {
    async insert(rows) {
      try {
        await conn.beginTransaction();
        const [before] = await conn.query<mysql.RowDataPacket[]>('SELECT username FROM users WHERE username IN (?)', [
          rows.map((r) => r.username),
        ]);
        const existing = new Set(before.map((r) => r.username as string));
        const fresh = rows.filter((r) => !existing.has(r.username));
        if (fresh.length === 0) {
          await conn.commit();
          return [0, 0];
        }
        await conn.query(`INSERT IGNORE INTO users (${COLUMNS.map(([c]) => c).join(', ')}) VALUES ?`, [
          fresh.map((r) => COLUMNS.map(([c]) => value(r, c))),
        ]);
        const [ids] = await conn.query<mysql.RowDataPacket[]>('SELECT id, username FROM users WHERE username IN (?)', [
          fresh.map((r) => r.username),
        ]);
        const byName = new Map(fresh.map((row) => [row.username, row.roles]));
        const roleRows = ids.flatMap(({ id, username }) =>
          (byName.get(username as string) ?? []).map((role) => [id, role]),
        );
        if (roleRows.length) await conn.query('INSERT IGNORE INTO user_roles (user_id, role) VALUES ?', [roleRows]);
        await conn.commit();
        return [fresh.length, roleRows.length];
      } catch (err) {
        await conn.rollback().catch(() => {});
        throw err;
      }
    },
    close: () => conn.end(),
  };
}

async function main(): Promise<void> {
  const total = Number(opts.users);
  const start = Number(opts.start);
  const batch = Math.max(1, Number(opts.batch));
  const bigBio = Number(opts['big-bio-ratio']);
  if (!Number.isInteger(total) || total < 0) throw new Error('--users must be a non-negative integer');
  const url = dbUrl();
  const writer = /^(mysql|mariadb):\/\//.test(url) ? await mysqlWriter(url) : await pgWriter(url);
  const t0 = Date.now();
  let inserted = 0;
  let roleRows = 0;
  try {
    for (let from = start; from < start + total; from += batch) {
      const rows: UserRow[] = [];
      for (let i = from; i < Math.min(from + batch, start + total); i++) rows.push(makeUser(opts.seed!, i, bigBio));
      const [users, roles] = await writer.insert(rows);
      inserted += users;
      roleRows += roles;
      if (!opts.quiet && total >= 10 * batch && ((from - start) / batch) % 10 === 0) {
        process.stderr.write(`  ${Math.min(from + batch - start, total)}/${total} users\n`);
      }
    }
  } finally {
    await writer.close();
  }
  const secs = (Date.now() - t0) / 1000;
  console.log(
    `seeded ${inserted} users (${total - inserted} already present), ${roleRows} roles in ${secs.toFixed(1)}s (seed ${opts.seed}, start ${start})`,
  );
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
