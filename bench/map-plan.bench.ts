// Map + plan throughput over pre-decoded change events: events/s of mapEvent -> coalesce ->
// planUser against an in-memory view of the pool, with the example mapping. The map-only pass
// in the same run is the baseline that shows what coalesce and plan add. Used by the
// project-wide `npm run bench` (import runMapPlanBench) and runnable on its own:
//   node dist/bench/map-plan.bench.js [events]
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ChangeEvent, CurrentUser, Row, UserIntent } from '../src/core/types.js';
import { UNAVAILABLE_VALUE } from '../src/pipeline/decode/unavailable.js';
import { encodePostgresVersion } from '../src/pipeline/decode/version.js';
import { compileMapping, type CompiledMapping } from '../src/pipeline/map/compile-mapping.js';
import { desiredUserFromRow } from '../src/pipeline/map/desired-user.js';
import { loadMapping } from '../src/pipeline/map/load-mapping.js';
import { mapEvent } from '../src/pipeline/map/map-event.js';
import { coalesce } from '../src/pipeline/plan/coalesce.js';
import { planOptionsFromMapping } from '../src/pipeline/plan/plan-options.js';
import { planUser } from '../src/pipeline/plan/plan-user.js';

export interface MapPlanBenchResult {
  name: string;
  events: number;
  seconds: number;
  eventsPerSecond: number;
  /** Admin calls planned per event (map+plan passes only). */
  callsPerEvent: number;
  mappingErrors: number;
}

const TIERS = ['gold', 'Silver ', 'bronze', null];
const STATUSES = ['active', 'active', 'active', 'suspended', 'locked'];

const usersRow = (id: number, n: number): Row => ({
  id,
  username: `User.${id}`,
  email: ` User.${id}@Example.COM`,
  email_verified: n % 3 !== 0,
  phone: n % 4 === 0 ? null : `0151 ${String(1_000_000 + id).slice(-7)}`,
  given_name: n % 5 === 0 ? 'Zoë ' : 'Jürgen',
  family_name: 'Öztürk-Müller',
  locale: 'de-DE',
  status: STATUSES[n % STATUSES.length],
  created_at: 1_600_000_000_000_000,
  updated_at: 1_700_000_000_000_000 + n,
  loyalty_tier: TIERS[n % TIERS.length],
  marketing_opt_in: n % 2 === 0 ? 't' : 'f',
  legacy_customer_no: `${100_000 + id}.00`,
  bio: 'x'.repeat(400),
  last_login_at: 1_700_000_000_000 + n,
  password_hash: '$2b$12$notarealhashnotarealhashnotarealhashnotareal',
});

/**
 * A realistic stream over `users` users: a snapshot, then updates of which most touch only
 * unmapped columns (logins), some change mapped ones, some carry TOAST placeholders, a few
 * deletes and role changes.
 */
export const syntheticEvents = (count: number, users = 10_000): ChangeEvent[] => {
  const events: ChangeEvent[] = [];
  const revision = new Map<number, number>();
  let lsn = 0x1_0000_0000n;
  for (let i = 0; i < count; i++) {
    lsn += 0x58n;
    const id = 1 + ((i * 7919) % users);
    const n = (revision.get(id) ?? 0) + 1;
    revision.set(id, n);
    const version = encodePostgresVersion(lsn, lsn);
    const origin = { topic: 'legacy.public.users', partition: id % 12, offset: String(i) };
    const base = { key: { id }, version, sourceTsMs: 1_700_000_000_000, tombstone: false, snapshot: false, origin };
    const kind = i < users ? 'snapshot' : i % 100;
    if (kind === 'snapshot') {
      events.push({ ...base, table: 'users', op: 'r', snapshot: true, before: null, after: usersRow(id, 0) });
    } else if (kind < 8) {
      events.push({
        ...base,
        table: 'user_roles',
        key: { user_id: id, role: 'support' },
        op: kind < 4 ? 'c' : 'd',
        before: null,
        after: kind < 4 ? { user_id: id, role: 'support' } : null,
      });
    } else if (kind < 10) {
      events.push({ ...base, table: 'users', op: 'd', before: { id }, after: null });
    } else if (kind < 15) {
      events.push({
        ...base,
        table: 'users',
        op: 'u',
        before: null,
        after: { ...usersRow(id, 0), bio: UNAVAILABLE_VALUE, email: `new.${n}@example.com` },
      });
    } else if (kind < 30) {
      events.push({ ...base, table: 'users', op: 'u', before: null, after: usersRow(id, n) });
    } else {
      events.push({
        ...base,
        table: 'users',
        op: 'u',
        before: null,
        after: { ...usersRow(id, 0), last_login_at: 1_700_000_000_000 + n },
      });
    }
  }
  return events;
};

/** Cognito as the snapshot left it: what the planner compares against. */
const poolFromSnapshot = (mapping: CompiledMapping, users: number): Map<string, CurrentUser> => {
  const pool = new Map<string, CurrentUser>();
  for (let id = 1; id <= users; id++) {
    const desired = desiredUserFromRow(mapping, usersRow(id, 0));
    if (!desired.ok) continue;
    const attributes = Object.fromEntries(Object.entries(desired.value.attributes).filter(([, v]) => v !== ''));
    pool.set(desired.value.username, {
      username: desired.value.username,
      attributes,
      enabled: desired.value.enabled,
      groups: ['customer'],
      version: '0',
    });
  }
  return pool;
};

type Pass = (events: readonly ChangeEvent[]) => { calls: number; errors: number };

const timed = (name: string, events: readonly ChangeEvent[], iterations: number, pass: Pass): MapPlanBenchResult => {
  pass(events); // warm-up: let V8 optimise before timing
  let calls = 0;
  let errors = 0;
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) {
    const r = pass(events);
    calls += r.calls;
    errors += r.errors;
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const total = events.length * iterations;
  return {
    name,
    events: total,
    seconds,
    eventsPerSecond: Math.round(total / seconds),
    callsPerEvent: calls / total,
    mappingErrors: errors,
  };
};

export const runMapPlanBench = async (eventCount = 200_000, batchSize = 500): Promise<MapPlanBenchResult[]> => {
  const mapping = compileMapping(await loadMapping(join(process.cwd(), 'examples/mapping.yaml')));
  const options = planOptionsFromMapping(mapping);
  const users = 10_000;
  const events = syntheticEvents(Math.max(eventCount, users * 2), users);
  const pool = poolFromSnapshot(mapping, users);
  const iterations = Math.max(1, Math.round(eventCount / events.length));

  const mapOnly: Pass = (stream) => {
    let errors = 0;
    for (const event of stream) if (!mapEvent(mapping, event).ok) errors++;
    return { calls: 0, errors };
  };

  const mapAndPlan =
    (size: number): Pass =>
    (stream) => {
      let calls = 0;
      let errors = 0;
      for (let at = 0; at < stream.length; at += size) {
        const intents: UserIntent[] = [];
        const end = Math.min(stream.length, at + size);
        for (let i = at; i < end; i++) {
          const mapped = mapEvent(mapping, stream[i] as ChangeEvent);
          if (!mapped.ok) errors++;
          else if (mapped.value.kind === 'intents') for (const intent of mapped.value.intents) intents.push(intent);
        }
        for (const intent of coalesce(intents)) {
          const username = intent.kind === 'upsert' ? intent.user.username : intent.username;
          calls += planUser(pool.get(username) ?? null, intent, options).calls.length;
        }
      }
      return { calls, errors };
    };

  return [
    timed('map only (baseline)', events, iterations, mapOnly),
    timed(`map+coalesce+plan, batch ${batchSize}`, events, iterations, mapAndPlan(batchSize)),
    timed('map+plan, batch 1 (no coalescing)', events, iterations, mapAndPlan(1)),
  ];
};

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const results = await runMapPlanBench(Number(process.argv[2] ?? 200_000));
  for (const r of results) {
    console.log(
      `map-plan ${r.name.padEnd(34)} ${String(r.eventsPerSecond).padStart(9)} events/s  ` +
        `(${r.events} events in ${r.seconds.toFixed(2)} s, ${r.callsPerEvent.toFixed(3)} calls/event, ${r.mappingErrors} mapping errors)`,
    );
  }
}
