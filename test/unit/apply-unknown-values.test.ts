// Issue #19 / #12.6: attributes an event does not know (TOAST placeholders) are never silently
// left out of a creation or stale under a derived attribute (pipeline/apply/unknown-values.ts).
import { describe, expect, test } from '@jest/globals';
import { join } from 'node:path';
import { templatesOverToastable, toastWarnings } from '../../src/migration/toast-templates.js';
import { createMetrics } from '../../src/ops/metrics.js';
import { loadCompiledMapping } from '../../src/runtime/pipeline-factory.js';
import type { Attributes, DesiredUser, UserIntent } from '../../src/core/types.js';
import { UserApplier } from '../../src/pipeline/apply/user-applier.js';
import { PoolState } from '../../src/pipeline/apply/pool-state.js';
import {
  derivedAttributes,
  unknownsToFill,
  withKnownValues,
  unwritten,
} from '../../src/pipeline/apply/unknown-values.js';
import { coalesce } from '../../src/pipeline/plan/coalesce.js';
import { planUser } from '../../src/pipeline/plan/plan-user.js';
import { planOptions } from './support/plan-options.js';
import { InMemoryCognito } from '../../bench/support/in-memory-cognito.js';

const v = (n: number): string => n.toString(16).padStart(32, '0');
const options = planOptions();
const DERIVED = new Set(['name']);

const upsert = (user: DesiredUser, version: number): UserIntent => ({
  kind: 'upsert',
  user,
  version: v(version),
  origin: { topic: 'users', partition: 0, offset: String(version) },
  sourceTsMs: null,
});

const setup = (source?: (user: DesiredUser) => Promise<Attributes | undefined>) => {
  const cognito = new InMemoryCognito();
  const reads: string[] = [];
  const applier = new UserApplier({
    gateway: cognito,
    plan: (current, intent, deleted) => planUser(current, intent, options, deleted),
    coalesce,
    state: new PoolState({ capacity: 100, comparedAttributes: [], versionAttribute: 'custom:cdc_version' }),
    manageGroups: false,
    comparedAttributes: [],
    derivedAttributes: DERIVED,
    ...(source
      ? {
          unknownValues: async (user: DesiredUser) => {
            reads.push(user.username);
            return source(user);
          },
        }
      : {}),
  });
  return { cognito, applier, reads };
};

// The create Debezium sends for a primary-key change: the unchanged TOASTed given_name is a placeholder.
const fromKeyChange: DesiredUser = {
  username: 'legacy_2',
  attributes: { email: 'a@example.com', family_name: 'Long' },
  unknown: ['given_name', 'name'],
  enabled: true,
};
const row: Attributes = {
  email: 'a@example.com',
  given_name: 'Maximilian',
  family_name: 'Long',
  name: 'Maximilian Long',
};

describe('pure parts', () => {
  test('a creation fills every unknown, an update only the derived ones', () => {
    expect(unknownsToFill(fromKeyChange, true, DERIVED)).toEqual(['given_name', 'name']);
    expect(unknownsToFill(fromKeyChange, false, DERIVED)).toEqual(['name']);
    expect(withKnownValues(fromKeyChange, { given_name: 'M' })).toEqual({
      ...fromKeyChange,
      attributes: { ...fromKeyChange.attributes, given_name: 'M' },
      unknown: ['name'],
    });
    expect(withKnownValues(fromKeyChange, {})).toBe(fromKeyChange);
    expect(
      unwritten(['given_name', 'email'], [{ api: 'AdminCreateUser', username: 'x', attributes: { email: 'e' } }]),
    ).toEqual(['given_name']);
  });
});

describe('the applier', () => {
  test('a creation from an event with placeholders reads the row and writes every attribute', async () => {
    const { cognito, applier, reads } = setup(async () => row);
    const report = await applier.apply('legacy_2', [upsert(fromKeyChange, 5)]);
    expect(reads).toEqual(['legacy_2']);
    expect(report.incomplete).toBeUndefined();
    expect(cognito.peek('legacy_2')?.attributes).toMatchObject({ given_name: 'Maximilian', name: 'Maximilian Long' });
  });

  test('without a source the creation still happens, and the user is reported incomplete (never silently short)', async () => {
    const { cognito, applier } = setup();
    const report = await applier.apply('legacy_2', [upsert(fromKeyChange, 5)]);
    expect(cognito.peek('legacy_2')?.attributes.email).toBe('a@example.com');
    expect(report.incomplete).toEqual(['given_name', 'name']);
  });

  test('a value an earlier event of the batch knew is used without a read', async () => {
    const { cognito, applier, reads } = setup(async () => row);
    const insert: DesiredUser = {
      ...fromKeyChange,
      attributes: { ...row, family_name: 'Old', name: 'Maximilian Old' },
    };
    delete insert.unknown;
    // the insert fails nothing here; it is folded with the update that follows it
    await applier.apply('legacy_2', [upsert(insert, 4), upsert(fromKeyChange, 5)]);
    expect(reads).toEqual(['legacy_2']); // name is still unknown in the update (derived from the changed family_name)
    expect(cognito.peek('legacy_2')?.attributes).toMatchObject({ given_name: 'Maximilian', name: 'Maximilian Long' });
  });

  test('an update of a column under a template whose other column is a placeholder rewrites the template from the row', async () => {
    const { cognito, applier, reads } = setup(async () => row);
    await applier.apply('legacy_2', [
      upsert({ ...fromKeyChange, attributes: { ...row, family_name: 'Old', name: 'Maximilian Old' }, unknown: [] }, 4),
    ]);
    reads.length = 0;
    const report = await applier.apply('legacy_2', [upsert(fromKeyChange, 6)]);
    expect(reads).toEqual(['legacy_2']);
    expect(report.incomplete).toBeUndefined();
    expect(cognito.peek('legacy_2')?.attributes).toMatchObject({
      given_name: 'Maximilian',
      family_name: 'Long',
      name: 'Maximilian Long',
    });
    // a stale replay reads nothing
    reads.length = 0;
    await applier.apply('legacy_2', [upsert(fromKeyChange, 6)]);
    expect(reads).toEqual([]);
  });

  test('the row cannot be read: the update goes on, reported incomplete', async () => {
    const { cognito, applier } = setup(async () => {
      throw new Error('database down');
    });
    await applier.apply('legacy_2', [
      upsert({ ...fromKeyChange, attributes: { ...row, family_name: 'Old', name: 'Maximilian Old' }, unknown: [] }, 4),
    ]);
    const report = await applier.apply('legacy_2', [upsert(fromKeyChange, 6)]);
    expect(cognito.peek('legacy_2')?.attributes.family_name).toBe('Long');
    expect(report.incomplete).toEqual(['name']);
  });
});

describe('templates over TOAST-able columns (validate-config, assess)', () => {
  test('the example mapping: name over given_name/family_name is named, single-column attributes are not', async () => {
    const mapping = await loadCompiledMapping(join(import.meta.dirname, '../../examples/mapping.yaml'));
    expect(derivedAttributes(mapping)).toEqual(new Set(['name']));
    const risks = templatesOverToastable(mapping, new Set(['given_name', 'bio', 'email']));
    expect(risks).toEqual([{ attribute: 'name', columns: ['given_name'] }]);
    expect(templatesOverToastable(mapping, new Set(['bio']))).toEqual([]);
    const [line] = toastWarnings('public.users', risks, false);
    expect(line).toMatch(/name is a template over given_name/);
    expect(line).toMatch(/ALTER TABLE public\.users REPLICA IDENTITY FULL;/);
    expect(line).toMatch(/cognito_sync_incomplete_users_total/);
  });
});

describe('reporting', () => {
  test('an incomplete user counts per attribute in cognito_sync_incomplete_users_total', async () => {
    const metrics = createMetrics();
    metrics.events.applied?.({
      username: 'legacy_2',
      calls: ['AdminCreateUser'],
      sourceTsMs: null,
      incomplete: ['given_name', 'name'],
    });
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/cognito_sync_incomplete_users_total\{attribute="given_name"\} 1/);
    expect(text).toMatch(/cognito_sync_incomplete_users_total\{attribute="name"\} 1/);
  });
});
