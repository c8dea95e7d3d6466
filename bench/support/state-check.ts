// What Cognito must hold after a bench run: each live source row as a snapshot record would
// carry it (decoded by the same decoder), mapped; and the comparison of a pool model with it.
import type { Row } from '../../src/core/types.js';
import type { CompiledMapping } from '../../src/pipeline/map/compile-mapping.js';
import { desiredUserFromRow } from '../../src/pipeline/map/desired-user.js';
import type { Pipeline } from '../../src/runtime/pipeline-factory.js';
import type { InMemoryCognito } from './in-memory-cognito.js';
import { USERS_TOPIC, changeRecords, type LegacyForm, type UserRow } from './legacy-records.js';
import type { LegacyWorkload } from './legacy-workload.js';

/** Cognito against the source: users that differ, by what differs. */
export interface StateCheck {
  users: number;
  mismatches: number;
  attributes: number;
  enabled: number;
  groups: number;
  missing: number;
  resurrected: number;
  examples: string[];
}

const describe = (attributes: Record<string, string>, enabled: boolean, groups: string[]): string =>
  JSON.stringify([Object.entries(attributes).sort(), enabled, [...groups].sort()]);

/** A source row as a snapshot record carries it to the sync: written in `form`, then decoded. */
export const snapshotRow = async (pipeline: Pipeline, row: UserRow, form: LegacyForm): Promise<Row> => {
  const [kv] = changeRecords(
    {
      table: 'users',
      op: 'r',
      row,
      toastBio: false,
      pos: { lastCommitLsn: null, lsn: 1, txId: 1, tsMs: 0, snapshot: 'true' },
    },
    form,
  );
  const decoded = await pipeline.decoder.decode({
    topic: USERS_TOPIC,
    partition: 0,
    offset: '0',
    key: kv!.key,
    value: kv!.value,
    headers: {},
  });
  if (!decoded.ok || decoded.value.kind !== 'event')
    throw new Error(`cannot decode the snapshot row of user ${String(row.id)}`);
  return { ...(decoded.value.event.after as Row) };
};

/** username -> the user Cognito must hold, as a comparable string. */
export const expectedPool = async (
  workload: LegacyWorkload,
  mapping: CompiledMapping,
  pipeline: Pipeline,
  form: LegacyForm,
): Promise<Map<string, string>> => {
  const desired = new Map<string, string>();
  for (const [id, row] of workload.rows) {
    const user = desiredUserFromRow(mapping, await snapshotRow(pipeline, row, form));
    if (!user.ok) throw user.error;
    const groups = [...(workload.roles.get(id) ?? [])]
      .map((role) => mapping.groupForRole(role))
      .filter((g): g is string => g !== undefined);
    desired.set(
      `legacy_${id}`,
      describe(
        Object.fromEntries(Object.entries(user.value.attributes).filter(([, v]) => v !== '')),
        user.value.enabled,
        groups,
      ),
    );
  }
  return desired;
};

export const comparePool = (
  model: InMemoryCognito,
  desired: Map<string, string>,
  mapping: CompiledMapping,
): StateCheck => {
  const check: StateCheck = {
    users: desired.size,
    mismatches: 0,
    attributes: 0,
    enabled: 0,
    groups: 0,
    missing: 0,
    resurrected: 0,
    examples: [],
  };
  const note = (what: string): void => void (check.examples.length < 2 && check.examples.push(what));
  for (const [name, want] of desired) {
    const u = model.users.get(name);
    if (!u) {
      check.mismatches++;
      check.missing++;
      note(`${name} missing`);
      continue;
    }
    const attributes = Object.fromEntries(
      Object.entries(u.attributes).filter(
        ([k]) => k !== mapping.versionAttribute && k !== mapping.spec.groups?.versionAttribute,
      ),
    );
    const have = describe(attributes, u.enabled, [...u.groups]);
    if (have === want) continue;
    check.mismatches++;
    const [wa, we, wg] = JSON.parse(want) as unknown[];
    const [ha, he, hg] = JSON.parse(have) as unknown[];
    if (JSON.stringify(wa) !== JSON.stringify(ha)) check.attributes++;
    if (we !== he) check.enabled++;
    if (JSON.stringify(wg) !== JSON.stringify(hg)) check.groups++;
    note(`${name}: want ${want} have ${have}`);
  }
  for (const name of model.users.keys()) {
    if (!desired.has(name)) {
      check.mismatches++;
      check.resurrected++;
      note(`${name} is in Cognito but deleted in the source`);
    }
  }
  return check;
};
