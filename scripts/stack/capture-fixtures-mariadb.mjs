// Capture raw Debezium records of MariaDB's binlog (Debezium's MySQL connector) into
// test/fixtures/debezium/mariadb-<format>.json (see capture-fixtures-mariadb.sh). The same shape
// as capture-fixtures.mjs for PostgreSQL: one connector per format on a dedicated database, a
// fixed change scenario (test/fixtures/debezium/README.md), marker rows to know each step
// arrived, then every topic of each connector dumped to its end offsets.
import mysql from 'mysql2/promise';
import { captureHarness } from './capture-harness.mjs';

const env = process.env;
const DB = env.MARIADB_DB;

let db;
const { connectors, log, until, start, finish, close, abort } = captureHarness({
  clientId: 'capture-fixtures-mariadb',
  defaultFormats: 'json unwrap-json',
  prefixOf: (format) => `fx_mariadb_${format.replace(/-/g, '_')}`,
  usersTopicOf: (prefix) => `${prefix}.${DB}.users`,
  insertMarker: (m) =>
    q(`INSERT INTO users (username, email, status) VALUES (?, ?, 'active')`, [m, `${m}@markers.example`]),
});

// ---- scenario ----------------------------------------------------------------------------------
const BIG_BIO = Array.from({ length: 500 }, (_, i) => `bio-${i} Ünïcödé ${(i * 7919) % 10007}`).join(' ');
const q = (sql, params) => db.query(sql, params);
async function tx(fn) {
  await db.beginTransaction();
  try {
    await fn();
    await db.commit();
  } catch (e) {
    await db.rollback();
    throw e;
  }
}

async function preSnapshotRows() {
  await tx(async () => {
    await q(
      `INSERT INTO users (id, username, email, email_verified, phone, phone_verified, given_name, family_name, locale, status,
              created_at, updated_at, loyalty_tier, marketing_opt_in, legacy_customer_no, birthdate, bio, last_login_at, password_hash)
            VALUES
            (1, 'alice.fixture', 'Alice.Fixture@Example.COM', true, '+14155550101', true, 'Alice', 'Fixture', 'en-US', 'active',
             '2019-03-04 05:06:07.123456', '2025-12-31 23:59:59.999999', 'gold', true, 123456789012, '1990-02-28', ?,
             '2025-12-30 10:00:00', '$2b$10$abcdefghijklmnopqrstuu5Zx1Rr0tqV0xv8Tn7uD8Q8gM0lQy3W2'),
            (2, 'yamada.taro', 'taro.yamada@example.jp', false, '090-1234-5678', false, '太郎', '山田', 'ja-JP', 'active',
             '2020-01-01 00:00:00', '2020-01-01 00:00:00', NULL, false, 999999999999, NULL, 'こんにちは', NULL, NULL),
            (3, 'jose.pena', 'Jose.Pena@example.es', true, '(415) 555-0123', false, 'José', 'Peña', 'es_ES', 'suspended',
             '2021-06-15 10:30:00', '2024-01-01 00:00:00', 'bronze', false, 1, '1985-12-31', NULL, '2023-05-05 05:05:05',
             '5f4dcc3b5aa765d61d8327deb882cf99')`,
      [BIG_BIO],
    );
    await q(`ALTER TABLE users AUTO_INCREMENT = 101`);
    await q(
      `INSERT INTO user_roles (user_id, role) VALUES (1, 'customer'), (1, 'admin'), (2, 'customer'), (3, 'support')`,
    );
  });
}

const steps = [];
const step = (name, fn) => steps.push({ name, fn });
step('insert dave with roles (one transaction)', async () =>
  tx(async () => {
    await q(`INSERT INTO users (id, username, email, phone, given_name, family_name, locale, loyalty_tier, marketing_opt_in, legacy_customer_no)
             VALUES (10, 'dave.oconnor', 'Dave.OConnor@Example.com', '+353 87 123 4567', 'Dave', 'O''Connor', 'en-IE', 'silver', true, 42)`);
    await q(`INSERT INTO user_roles (user_id, role) VALUES (10, 'customer'), (10, 'support')`);
  }),
);
step('update dave: email case only, phone to NULL, verified flags', () =>
  q(`UPDATE users SET email = 'dave.oconnor@example.com', phone = NULL, email_verified = true WHERE id = 10`),
);
step('update alice last_login_at only: full row image, bio in full', () =>
  q(`UPDATE users SET last_login_at = '2026-01-02 03:04:05.678901' WHERE id = 1`),
);
step('update jose primary key 3 -> 1003 (the FK cascade on user_roles is not in the binlog)', () =>
  q(`UPDATE users SET id = 1003 WHERE id = 3`),
);
step('multi-row transaction: 3 inserts in one statement (rows 0..2 of one event), an update, roles', async () =>
  tx(async () => {
    await q(`INSERT INTO users (id, username, email, given_name, family_name, locale, status, legacy_customer_no) VALUES
             (20, 'eve', 'EVE@example.org', 'Eve', NULL, NULL, 'pending_verification', 7),
             (21, 'zoe.angstrom', 'zoe@example.se', 'Zoë', 'Ångström', 'sv-SE', 'active', 100000000000),
             (22, 'kim.minjun', 'minjun.kim@example.kr', '민준', '김', 'ko-KR', 'active', NULL)`);
    await q(`UPDATE users SET status = 'active', email_verified = true WHERE id = 20`);
    await q(
      `INSERT INTO user_roles (user_id, role) VALUES (20, 'customer'), (21, 'customer'), (22, 'customer'), (22, 'beta_tester')`,
    );
  }),
);
step('delete dave (the FK cascade to his roles is not in the binlog): delete + tombstone', () =>
  q(`DELETE FROM users WHERE id = 10`),
);
step('schema change: add column preferred_username, then update eve', async () => {
  await q(`ALTER TABLE users ADD COLUMN preferred_username TEXT`);
  await q(
    `UPDATE users SET preferred_username = 'evie', status = 'suspended', loyalty_tier = 'platinum', marketing_opt_in = true WHERE id = 20`,
  );
});
step('revoke alice admin role', () => q(`DELETE FROM user_roles WHERE user_id = 1 AND role = 'admin'`));
step('incremental snapshot of users through the signal table', async () => {
  await q(`INSERT INTO debezium_signal (id, type, data) VALUES ('fx-incremental-1', 'execute-snapshot', ?)`, [
    JSON.stringify({ 'data-collections': [`${DB}.users`], type: 'incremental' }),
  ]);
  await until('incremental snapshot windows closed', async () => {
    const [rows] = await q(`SELECT count(*) AS n FROM debezium_signal WHERE type = 'snapshot-window-close'`);
    return Number(rows[0].n) >= connectors.length;
  });
});
step('truncate user_roles and users', async () => {
  await q('SET FOREIGN_KEY_CHECKS = 0');
  await q('TRUNCATE TABLE user_roles');
  await q('TRUNCATE TABLE users');
  await q('SET FOREIGN_KEY_CHECKS = 1');
});
step('insert frank after the truncate', async () =>
  tx(async () => {
    await q(
      `INSERT INTO users (id, username, email, given_name, family_name) VALUES (30, 'frank', 'Frank@Example.com', 'Frank', 'Ünal')`,
    );
    await q(`INSERT INTO user_roles (user_id, role) VALUES (30, 'customer')`);
  }),
);

// ---- main --------------------------------------------------------------------------------------
async function main() {
  db = await mysql.createConnection({
    host: '127.0.0.1',
    port: Number(env.MARIADB_PORT),
    user: env.MARIADB_USER,
    password: env.MARIADB_PASSWORD,
    database: DB,
    timezone: 'Z',
    charset: 'utf8mb4',
  });
  await preSnapshotRows();
  await start('--source', 'mariadb');
  for (const s of steps) {
    log(`step: ${s.name}`);
    await s.fn();
  }
  const summary = await finish((format) => `mariadb-${format}.json`);
  await db.end();
  await close();
  for (const line of summary) console.log(line);
}

main().catch(async (err) => {
  await abort(err);
  await db?.end().catch(() => {});
  process.exit(1);
});
