// The human form of a ReconcileReport.
import type { ReconcileReport } from './reconcile.js';
import { pct } from './format.js';

export const formatReconcile = (r: ReconcileReport, title: string): string[] => {
  const out = [
    `${title}: ${r.drift === 0 ? 'no drift' : `${r.drift} user(s) drifted`}`,
    `  legacy: ${r.legacy.users} row(s)${r.legacy.unmappable ? `, ${r.legacy.unmappable} unmappable (DLQ; see assess)` : ''}`,
    `  cognito: ${r.cognito.indexed} user(s) of the mapping's shape, ${r.cognito.foreign} other(s) left alone${r.cognito.foreignExamples.length ? ` (e.g. ${r.cognito.foreignExamples.join(' ')})` : ''}`,
    `  missing (in DB, not in Cognito): ${r.missing.count}${r.missing.examples.length ? `  e.g. ${r.missing.examples.join(' ')}` : ''}`,
  ];
  if (r.notMigrated > 0) out.push(`  not migrated yet (existing-only: they arrive on first sign-in): ${r.notMigrated}`);
  out.push(
    `  extra (in Cognito, no row): ${r.extra.count}${r.extra.examples.length ? `  e.g. ${r.extra.examples.join(' ')}` : ''}`,
  );
  if (r.outsideCohort.legacy > 0)
    out.push(
      `  outside the cohort (mapping cohort; not drift): ${r.outsideCohort.legacy} legacy user(s)${r.outsideCohort.inCognito ? `, ${r.outsideCohort.inCognito} of them in Cognito anyway (synced before the cohort shrank: never deleted; --allow-shrink disabled them)` : ''}`,
    );
  const p = r.rollout;
  out.push(
    `  rollout: ${p.legacyUsers} legacy user(s) in the migration${r.outsideCohort.legacy > 0 ? ' (cohort)' : ''}, ${p.inCognito} in Cognito (${pct(p.inCognito, p.legacyUsers)}), ${p.passwordReady === null ? 'password-ready cannot be told (users created CONFIRMED with a random password)' : `${p.passwordReady} password-ready (${pct(p.passwordReady, p.legacyUsers)})`}`,
  );
  if (r.held.count > 0) {
    out.push(
      `  held (in Cognito at their last valid state; the row is there but the mapping refuses it — fix the row, never deleted): ${r.held.count}`,
    );
    for (const h of r.held.examples) out.push(`      ${h.username}: ${h.reason}`);
  }
  const attrs = Object.entries(r.different.byAttribute)
    .map(([a, n]) => `${a}=${n}`)
    .join(' ');
  out.push(`  different: ${r.different.count}${attrs ? `  (${attrs})` : ''}`);
  for (const e of r.different.examples) {
    const parts = e.differences.map(
      (d) => `${d.name} ${d.kind}${d.createOnly ? ' (create-only: needs a recreate)' : ''}`,
    );
    if (e.groups)
      parts.push(
        ...e.groups.missing.map((g) => `group ${g} missing`),
        ...e.groups.extra.map((g) => `group ${g} extra`),
      );
    out.push(`      ${e.username}: ${parts.join(', ')}`);
  }
  const m = r.memberships;
  if (m.compared) {
    const groups = Object.entries(m.byGroup)
      .map(([g, n]) => `${g}=+${n.missing}/-${n.extra}`)
      .join(' ');
    out.push(
      `  group memberships (${m.groups.length} group(s) listed): ${m.users} user(s), ${m.missing} missing, ${m.extra} extra${groups ? `  (${groups})` : ''}` +
        (m.refusedRoles ? `; ${m.refusedRoles} role row(s) the mapping refuses (DLQ)` : ''),
    );
  }
  if (r.repair) {
    const fix = r.repair;
    out.push(
      `  repair: ${fix.created} created, ${fix.updated} updated, ${fix.deleted} deleted, ${fix.unchanged} unchanged, ${fix.failed} failed`,
    );
    for (const e of fix.errors) out.push(`      ${e}`);
  }
  out.push(
    `  memory: ${r.memory.indexBytes} bytes of index (${r.memory.bytesPerUser} per user; usernames spilled to a temp file)`,
  );
  return out;
};
