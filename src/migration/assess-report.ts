// The human form of an AssessReport (the JSON form is the report itself).
import type { AssessReport, ProblemSummary } from './assess-aggregator.js';
import { duration, pct } from './format.js';

const problemLines = (list: ProblemSummary[]): string[] =>
  list.flatMap((p) => [
    `  ${p.field}: ${p.problem} — ${p.count} row(s)`,
    ...p.examples.map((e) => `      ${e.key}  ${e.value}`),
  ]);

export const formatAssess = (r: AssessReport): string => {
  const out: string[] = [`assess ${r.table}: ${r.users} user(s), ${r.disabled} disabled`];
  if (r.cohort)
    out.push(
      `cohort ${r.cohort.rule}: ${r.cohort.users} user(s) in the migration (${pct(r.cohort.users, r.users)}), ${r.cohort.outside} outside; the DLQ count, duplicates, disabled users and the backfill estimate are for the users in it`,
    );
  out.push('', 'coverage (non-null):');
  for (const c of r.coverage) out.push(`  ${c.column.padEnd(24)} ${String(c.percent).padStart(5)}%  (${c.nonNull})`);
  out.push(
    '',
    `rejected by Cognito's rules -> DLQ: ${r.dlq.rows} row(s)${r.dlq.examples.length ? ` (e.g. ${r.dlq.examples.join(' ')})` : ''}`,
  );
  out.push(...(r.problems.length ? problemLines(r.problems) : ['  none']));
  out.push('', 'values the mapping drops (no attribute written):');
  out.push(...(r.dropped.length ? problemLines(r.dropped) : ['  none']));
  out.push('', 'duplicates (Cognito aliases are unique and case-insensitive):');
  for (const d of r.duplicates) {
    out.push(`  ${d.attribute}: ${d.values} value(s) shared, ${d.rows} row(s) beyond the first`);
    for (const e of d.examples) out.push(`      ${e.value}  ${e.keys[0]} = ${e.keys[1]}`);
  }
  if (r.duplicates.length === 0) out.push('  (no alias attribute mapped)');
  const e = r.estimate;
  out.push('');
  if (e.createPolicy === 'existing-only') {
    out.push(
      'backfill: createPolicy existing-only: the sync creates nobody; users arrive on first sign-in (User Migration trigger)',
    );
  } else {
    const calls = Object.entries(e.calls)
      .map(([c, n]) => `${n} ${c} at ${e.rates[c as keyof typeof e.rates]}/s`)
      .join(', ');
    out.push(
      `backfill estimate: ${duration(e.seconds)} (${calls || 'no calls'}${e.bottleneck ? `; bound by ${e.bottleneck}` : ''})`,
    );
  }
  out.push(
    `memory: duplicate detection holds ${r.memory.aliasIndexEntries} hash entries (~${r.memory.bytesPerEntry} bytes each, no row data)`,
  );
  out.push('', verdictLine(r));
  return `${out.join('\n')}\n`;
};

/**
 * The last line names what was found: rows for the DLQ, and rows sharing an alias with another
 * row, separately ("0% of rows would land in the DLQ" read as a contradiction when the only
 * finding was a duplicate phone).
 */
export const verdictLine = (r: Pick<AssessReport, 'problems' | 'duplicates' | 'dlq' | 'users'>): string => {
  const duplicateRows = r.duplicates.reduce((n, d) => n + d.rows, 0);
  if (r.problems.length + duplicateRows === 0) return 'ok: nothing Cognito would refuse';
  const found: string[] = [];
  if (r.dlq.rows > 0) found.push(`${r.dlq.rows} row(s) (${pct(r.dlq.rows, r.users)}) would land in the DLQ`);
  if (duplicateRows > 0) {
    const which = r.duplicates
      .filter((d) => d.rows > 0)
      .map((d) => d.attribute)
      .join(', ');
    found.push(`${duplicateRows} row(s) share ${which} with another row, and Cognito gives an alias to one user only`);
  }
  return `attention: ${found.join('; ')}: fix the data or the mapping first`;
};
