// Version ordering: a total order in which the source epoch decides first, a version without an
// epoch is epoch 0, and (for one source's fixed-width positions) plain string order agrees, as
// the planner, the pool state and the deleted-users log compare with `<`.
import { describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { epochAt } from '../../src/pipeline/decode/epochs.js';
import {
  compareVersions,
  encodePostgresVersion,
  epochOf,
  NO_VERSION,
  positionOf,
  readPositionVersion,
  withEpoch,
} from '../../src/pipeline/decode/version.js';
import { bumpVersion } from '../../src/migration/owned-state.js';
import { parseGroupVersions } from '../../src/pipeline/plan/group-versions.js';
import { parseMapping } from '../../src/pipeline/map/index.js';

const lsn = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const epoch = fc.integer({ min: 0, max: 0xffff_ffff });
const pgVersion = fc.tuple(epoch, lsn, lsn).map(([e, c, l]) => withEpoch(e, encodePostgresVersion(c, l)));
const anyVersion = fc.oneof(pgVersion, fc.constant(NO_VERSION));
const sign = (n: number): number => (n < 0 ? -1 : n > 0 ? 1 : 0);

describe('version order', () => {
  test('is a total order: antisymmetric, transitive, and equal only for equal strings', () => {
    fc.assert(
      fc.property(anyVersion, anyVersion, anyVersion, (a, b, c) => {
        expect(compareVersions(a, b)).toBe(-compareVersions(b, a) || 0);
        expect(compareVersions(a, b) === 0).toBe(a === b);
        if (compareVersions(a, b) <= 0 && compareVersions(b, c) <= 0)
          expect(compareVersions(a, c)).toBeLessThanOrEqual(0);
      }),
      { numRuns: 2000 },
    );
  });

  test('the epoch dominates: any version of a later epoch is newer, whatever the positions', () => {
    fc.assert(
      fc.property(epoch, epoch, lsn, lsn, lsn, lsn, (e1, e2, c1, l1, c2, l2) => {
        fc.pre(e1 !== e2);
        const a = withEpoch(e1, encodePostgresVersion(c1, l1));
        const b = withEpoch(e2, encodePostgresVersion(c2, l2));
        expect(compareVersions(a, b)).toBe(e1 < e2 ? -1 : 1);
      }),
    );
  });

  test('a version without an epoch is epoch 0: the versions pools hold today compare unchanged', () => {
    fc.assert(
      fc.property(lsn, lsn, lsn, lsn, (c1, l1, c2, l2) => {
        const a = encodePostgresVersion(c1, l1);
        const b = encodePostgresVersion(c2, l2);
        expect(epochOf(a)).toBe(0);
        expect(withEpoch(0, a)).toBe(a);
        expect(compareVersions(a, b)).toBe(sign(a < b ? -1 : a > b ? 1 : 0));
        // ...and below every version of epoch 1, even the smallest position.
        expect(compareVersions(a, withEpoch(1, encodePostgresVersion(0, 0)))).toBe(-1);
      }),
    );
  });

  test('within an epoch nothing changes: the position decides, and string order agrees', () => {
    fc.assert(
      fc.property(epoch, lsn, lsn, lsn, lsn, (e, c1, l1, c2, l2) => {
        const pa = encodePostgresVersion(c1, l1);
        const pb = encodePostgresVersion(c2, l2);
        const a = withEpoch(e, pa);
        const b = withEpoch(e, pb);
        expect(compareVersions(a, b)).toBe(compareVersions(pa, pb));
        expect(sign(a < b ? -1 : a > b ? 1 : 0)).toBe(compareVersions(a, b));
        expect(positionOf(a)).toBe(pa);
        expect(epochOf(a)).toBe(e);
      }),
    );
  });

  test('plain string order agrees with compareVersions across epochs too (what the planner uses)', () => {
    fc.assert(
      fc.property(pgVersion, pgVersion, (a, b) => {
        expect(sign(a < b ? -1 : a > b ? 1 : 0)).toBe(compareVersions(a, b));
      }),
      { numRuns: 2000 },
    );
  });

  test('NO_VERSION stays position-less in every epoch and sorts below everything', () => {
    fc.assert(
      fc.property(epoch, pgVersion, (e, v) => {
        expect(withEpoch(e, NO_VERSION)).toBe(NO_VERSION);
        if (v !== NO_VERSION) expect(compareVersions(NO_VERSION, v)).toBe(-1);
      }),
    );
  });
});

describe('PostgreSQL positions', () => {
  // A model of a WAL: transactions commit in order; each change starts after the previous
  // commit's end or (interleaved) earlier, but always before its own commit; Debezium's
  // sequence is [end of the previous streamed commit, change LSN].
  const wal = fc
    .array(fc.array(fc.integer({ min: 0, max: 500 }), { minLength: 1, maxLength: 4 }), {
      minLength: 1,
      maxLength: 12,
    })
    .map((transactions) => {
      let end = 1000n;
      let lastCommit = 0n;
      const events: { version: string; tx: number; commitEnd: bigint; lsn: bigint }[] = [];
      transactions.forEach((backoffs, tx) => {
        // changes may start before the previous commit (interleaved), never before 0
        const start = end;
        const changes = backoffs.map((b, i) => start - BigInt(b) + BigInt(i) * 1000n);
        const commitEnd = start + BigInt(backoffs.length) * 1000n + 100n;
        for (const l of changes.sort((x, y) => (x < y ? -1 : x > y ? 1 : 0)))
          events.push({ version: encodePostgresVersion(lastCommit, l), tx, commitEnd, lsn: l });
        lastCommit = commitEnd;
        end = commitEnd;
      });
      return events;
    });

  test('stream order is version order', () => {
    fc.assert(
      fc.property(wal, (events) => {
        for (let i = 1; i < events.length; i++)
          expect(compareVersions(events[i - 1]!.version, events[i]!.version)).toBe(-1);
      }),
    );
  });

  test('a read at the insert position P sorts above every change committed before it, below every change after it', () => {
    fc.assert(
      fc.property(wal, fc.nat(), (events, pick) => {
        const at = events[pick % events.length]!;
        const read = readPositionVersion(at.commitEnd); // read right after that transaction committed
        for (const e of events) {
          if (e.commitEnd <= at.commitEnd) expect(compareVersions(e.version, read)).toBe(-1);
          else if (e.lsn >= at.commitEnd) expect(compareVersions(e.version, read)).toBe(1);
        }
      }),
    );
  });

  test('a snapshot read (no commit in its sequence) sorts at its own LSN, above what was streamed before it', () => {
    const before = encodePostgresVersion(0x2000, 0x2100);
    const snapshot = encodePostgresVersion(0, 0x3000);
    expect(compareVersions(before, snapshot)).toBe(-1);
  });
});

describe('epoch helpers', () => {
  const epochs = [
    { epoch: 1, sinceMs: Date.parse('2026-01-01T00:00:00Z') },
    { epoch: 2, sinceMs: Date.parse('2026-06-01T00:00:00Z') },
  ];
  test('an event belongs to the last epoch whose since is not after its commit time', () => {
    const at = epochAt(epochs);
    expect(at(Date.parse('2025-12-31T23:59:59Z'))).toBe(0);
    expect(at(Date.parse('2026-01-01T00:00:00Z'))).toBe(1);
    expect(at(Date.parse('2026-07-01T00:00:00Z'))).toBe(2);
    expect(at(null)).toBe(2); // no commit time: the operator's current word
    expect(epochAt([{ epoch: 3 }])(0)).toBe(3);
    expect(epochAt([])(Date.now())).toBe(0);
  });

  test('bumpVersion stays in its epoch; group versions in an epoch parse', () => {
    const v = withEpoch(2, encodePostgresVersion(5, 7));
    const bumped = bumpVersion(v);
    expect(epochOf(bumped)).toBe(2);
    expect(compareVersions(v, bumped)).toBe(-1);
    expect(parseGroupVersions(`admin=${v}`).get('admin')).toBe(v);
  });

  test('the mapping takes versionEpochs and refuses ones that do not grow or have no zone', () => {
    const base = { username: { column: 'id' }, attributes: { email: 'email' } };
    const spec = parseMapping(
      { ...base, versionEpochs: [{ epoch: 1 }, { epoch: 2, since: '2026-06-01T00:00:00Z' }] },
      't',
    );
    expect(spec.versionEpochs).toEqual([{ epoch: 1 }, { epoch: 2, sinceMs: Date.parse('2026-06-01T00:00:00Z') }]);
    expect(() =>
      parseMapping(
        {
          ...base,
          versionEpochs: [
            { epoch: 2, since: '2026-06-01T00:00:00Z' },
            { epoch: 1, since: '2026-07-01T00:00:00Z' },
          ],
        },
        't',
      ),
    ).toThrow(/versionEpochs\[1\].*grow/s);
    expect(() => parseMapping({ ...base, versionEpochs: [{ epoch: 1, since: '2026-06-01 00:00' }] }, 't')).toThrow(
      /time zone/,
    );
  });
});
