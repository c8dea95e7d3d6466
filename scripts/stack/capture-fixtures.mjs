// Capture raw Debezium records from the real stack into test/fixtures/debezium/ (see capture-fixtures.sh).
//
// One connector per format runs against a dedicated database; this script plays a fixed change
// scenario (scenario steps are listed in test/fixtures/debezium/README.md), waits until every
// connector has emitted each step (marker rows found in the raw value bytes, whatever the format),
// then reads every topic of each connector from the beginning to its end offsets and writes:
//   <format>.json         [{topic, partition, offset, timestamp, key_b64, value_b64, headers:[{key, value_b64}]}]
//   avro-schemas.json     {id: schemaString} for every schema id referenced by avro.json
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import pg from 'pg';
import { captureHarness } from './capture-harness.mjs';
import { avroSchemas as registrySchemas } from './fixture-dump.mjs';

const env = process.env;
const PG_URL = `postgres://${env.PG_USER}:${env.PG_PASSWORD}@127.0.0.1:${env.PG_PORT}/${env.PG_DB}`;
const REGISTRY = `${env.REGISTRY_URL}/apis/ccompat/v7`;

const db = new pg.Client({ connectionString: PG_URL });
const { OUT, connectors, log, until, start, finish, close, abort } = captureHarness({
  clientId: 'capture-fixtures',
  defaultFormats: 'json json-noschema avro unwrap-json',
  prefixOf: (format) => `fx_${format.replace(/-/g, '_')}`,
  usersTopicOf: (prefix) => `${prefix}.public.users`,
  insertMarker: (m) =>
    db.query(`INSERT INTO public.users (username, email, status) VALUES ($1, $2, 'active')`, [
      m,
      `${m}@markers.example`,
    ]),
});

// ---- scenario --------------------------------------------------------------------------------
const BIG_BIO = Array.from({ length: 500 }, (_, i) => `bio-${i} Ünïcödé ${(i * 7919) % 10007}`).join(' '); // ~ 11 KB: out of line (TOAST, STORAGE EXTERNAL)
const q = (sql, params) => db.query(sql, params);
async function tx(fn) {
  await q('BEGIN');
  try {
    await fn();
    await q('COMMIT');
  } catch (e) {
    await q('ROLLBACK');
    throw e;
  }
}

async function preSnapshotRows() {
  await tx(async () => {
    await q(
      `INSERT INTO public.users (id, username, email, email_verified, phone, phone_verified, given_name, family_name, locale, status,
               created_at, updated_at, loyalty_tier, marketing_opt_in, legacy_customer_no, birthdate, bio, last_login_at, password_hash)
             VALUES
             (1, 'alice.fixture', 'Alice.Fixture@Example.COM', true, '+14155550101', true, 'Alice', 'Fixture', 'en-US', 'active',
              '2019-03-04T05:06:07.123456Z', '2025-12-31T23:59:59.999999Z', 'gold', true, 123456789012, '1990-02-28', $1,
              '2025-12-30T10:00:00Z', '$2b$10$abcdefghijklmnopqrstuu5Zx1Rr0tqV0xv8Tn7uD8Q8gM0lQy3W2'),
             (2, 'yamada.taro', 'taro.yamada@example.jp', false, '090-1234-5678', false, '太郎', '山田', 'ja-JP', 'active',
              '2020-01-01T00:00:00Z', '2020-01-01T00:00:00Z', NULL, false, 999999999999, NULL, 'こんにちは', NULL, NULL),
             (3, 'jose.pena', 'Jose.Pena@example.es', true, '(415) 555-0123', false, 'José', 'Peña', 'es_ES', 'suspended',
              '2021-06-15T12:30:00+02:00', '2024-01-01T00:00:00Z', 'bronze', false, 1, '1985-12-31', NULL, '2023-05-05T05:05:05Z',
              '5f4dcc3b5aa765d61d8327deb882cf99')`,
      [BIG_BIO],
    );
    await q(`SELECT setval('public.users_id_seq', 100)`);
    await q(
      `INSERT INTO public.user_roles (user_id, role) VALUES (1, 'customer'), (1, 'admin'), (2, 'customer'), (3, 'support')`,
    );
  });
}

const steps = [];
const step = (name, fn) => steps.push({ name, fn });

step('insert dave with roles (one transaction)', async () =>
  tx(async () => {
    await q(`INSERT INTO public.users (id, username, email, phone, given_name, family_name, locale, loyalty_tier, marketing_opt_in, legacy_customer_no)
           VALUES (10, 'dave.oconnor', 'Dave.OConnor@Example.com', '+353 87 123 4567', 'Dave', 'O''Connor', 'en-IE', 'silver', true, 42)`);
    await q(`INSERT INTO public.user_roles (user_id, role) VALUES (10, 'customer'), (10, 'support')`);
  }),
);
step('update dave: email case only, phone to NULL, verified flags', () =>
  q(`UPDATE public.users SET email = 'dave.oconnor@example.com', phone = NULL, email_verified = true WHERE id = 10`),
);
step('update alice last_login_at only: TOASTed bio unchanged -> unavailable-value placeholder', () =>
  q(`UPDATE public.users SET last_login_at = '2026-01-02T03:04:05.678901Z' WHERE id = 1`),
);
step('update jose primary key 3 -> 1003 (cascades to user_roles)', () =>
  q(`UPDATE public.users SET id = 1003 WHERE id = 3`),
);
step('multi-row transaction: 3 inserts, then an update of one of them, roles', async () =>
  tx(async () => {
    await q(`INSERT INTO public.users (id, username, email, given_name, family_name, locale, status, legacy_customer_no) VALUES
           (20, 'eve', 'EVE@example.org', 'Eve', NULL, NULL, 'pending_verification', 7),
           (21, 'zoe.angstrom', 'zoe@example.se', 'Zoë', 'Ångström', 'sv-SE', 'active', 100000000000),
           (22, 'kim.minjun', 'minjun.kim@example.kr', '민준', '김', 'ko-KR', 'active', NULL)`);
    await q(`UPDATE public.users SET status = 'active', email_verified = true WHERE id = 20`);
    await q(
      `INSERT INTO public.user_roles (user_id, role) VALUES (20, 'customer'), (21, 'customer'), (22, 'customer'), (22, 'beta_tester')`,
    );
  }),
);
step('delete dave (cascades to his roles): delete events + tombstones', () =>
  q(`DELETE FROM public.users WHERE id = 10`),
);
step('schema change: add column preferred_username, then update eve', async () => {
  await q(`ALTER TABLE public.users ADD COLUMN IF NOT EXISTS preferred_username text`);
  await q(
    `UPDATE public.users SET preferred_username = 'evie', status = 'suspended', loyalty_tier = 'platinum', marketing_opt_in = true WHERE id = 20`,
  );
});
step('revoke alice admin role', () => q(`DELETE FROM public.user_roles WHERE user_id = 1 AND role = 'admin'`));
step('update alice bio to a new large value (TOASTed column changed)', () =>
  q(`UPDATE public.users SET bio = $1 WHERE id = 1`, [BIG_BIO.replaceAll('bio-', 'bio2-')]),
);
step('incremental snapshot of public.users through the signal table', async () => {
  await q(
    `INSERT INTO public.debezium_signal (id, type, data) VALUES ('fx-incremental-1', 'execute-snapshot', '{"data-collections": ["public.users"], "type": "incremental"}')`,
  );
  // each connector writes a window-open/-close pair per chunk to the signal table
  await until('incremental snapshot windows closed', async () => {
    const { rows } = await q(
      `SELECT count(*)::int AS n FROM public.debezium_signal WHERE type = 'snapshot-window-close'`,
    );
    return rows[0].n >= connectors.length;
  });
});
step('truncate user_roles and users', () => q(`TRUNCATE public.user_roles, public.users`));
step('insert frank after the truncate', async () =>
  tx(async () => {
    await q(
      `INSERT INTO public.users (id, username, email, given_name, family_name) VALUES (30, 'frank', 'Frank@Example.com', 'Frank', 'Ünal')`,
    );
    await q(`INSERT INTO public.user_roles (user_id, role) VALUES (30, 'customer')`);
  }),
);

// ---- main ------------------------------------------------------------------------------------
async function main() {
  await db.connect();
  await preSnapshotRows();
  await start();
  for (const s of steps) {
    log(`step: ${s.name}`);
    await s.fn();
  }
  const summary = await finish(
    (format) => `${format}.json`,
    async (c, records, lines) => {
      if (c.format !== 'avro') return;
      const schemas = await registrySchemas(REGISTRY, records);
      writeFileSync(resolve(OUT, 'avro-schemas.json'), JSON.stringify(schemas, null, 1) + '\n');
      lines.push(
        `avro: Confluent wire format verified, schema ids ${Object.keys(schemas).join(',')} resolve at ${REGISTRY}/schemas/ids/<id>`,
      );
    },
  );
  await db.end();
  await close();
  for (const line of summary) console.log(line);
}

main().catch(async (err) => {
  await abort(err);
  process.exit(1);
});
