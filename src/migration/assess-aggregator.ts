// The pure half of `assess`: rows in, one report out. Memory is bounded: per row it keeps
// counters, a handful of redacted examples, and for each alias attribute (email, phone,
// preferred_username: unique and case-insensitive in Cognito) one hash -> first-key entry.
import { createHash } from 'node:crypto';
import type { QuotaCategory, Row } from '../core/types.js';
import { MappingError } from '../errors.js';
import { desiredUserFromRow, UNKNOWN, type CompiledMapping } from '../pipeline/map/index.js';
import { toText } from '../pipeline/map/text-values.js';
import { describeCohort } from '../pipeline/map/cohort.js';
import { problemClass, redactExample } from './redact-example.js';

export interface Example {
  /** The row's key, e.g. "id=42": keys identify rows without personal data. */
  key: string;
  value: string;
}

export interface ProblemSummary {
  field: string;
  problem: string;
  count: number;
  examples: Example[];
}

export interface DuplicateSummary {
  attribute: string;
  /** Distinct values held by more than one row. */
  values: number;
  /** Rows beyond the first for each such value: the users Cognito would refuse (or steal the alias from). */
  rows: number;
  examples: { value: string; keys: [string, string] }[];
}

export interface AssessReport {
  table: string;
  users: number;
  coverage: { column: string; nonNull: number; percent: number }[];
  /** Values Cognito would reject: each such row goes to the DLQ. */
  problems: ProblemSummary[];
  /** Values the mapping drops on purpose (onInvalid: remove, enum default null): no DLQ, no attribute. */
  dropped: ProblemSummary[];
  duplicates: DuplicateSummary[];
  /** Rows the sync would dead-letter (users in the cohort only: outside, an invalid row is skipped). */
  dlq: { rows: number; examples: string[] };
  disabled: number;
  /**
   * With a mapping cohort: the legacy users in it (a row whose username cannot be built counts
   * in, as the sync dead-letters it) and outside it. The DLQ count, duplicates, `disabled` and
   * the estimate are for the users in the cohort (what the sync meets now); coverage and
   * problems for every row (the data to fix before widening).
   */
  cohort?: { rule: string; users: number; outside: number };
  estimate: {
    createPolicy: 'always' | 'existing-only';
    calls: Partial<Record<QuotaCategory, number>>;
    rates: Record<QuotaCategory, number>;
    /** The slowest category decides: buckets run in parallel. */
    seconds: number;
    bottleneck: QuotaCategory | null;
  };
  memory: { aliasIndexEntries: number; bytesPerEntry: number };
}

export interface AssessOptions {
  examples: number;
  budget: Record<QuotaCategory, number>;
  /** cognito.createdUserStatus CONFIRMED: each creation also sets a password (one UserUpdate call). */
  confirmCreated?: boolean;
  /** Attributes Cognito keeps unique and case-insensitive when they are aliases. */
  aliasAttributes?: readonly string[];
  table: string;
}

/** Measured: a 12-char one-byte string key + a short string value in a Map (see the unit test). */
export const BYTES_PER_ALIAS_ENTRY = 120;

const DEFAULT_ALIASES = ['email', 'phone_number', 'preferred_username'];

class Tally {
  readonly byClass = new Map<string, ProblemSummary>();
  constructor(private readonly examples: number) {}
  add(field: string, problem: string, example: Example): void {
    const id = `${field}\u0000${problem}`;
    let entry = this.byClass.get(id);
    if (!entry) this.byClass.set(id, (entry = { field, problem, count: 0, examples: [] }));
    entry.count++;
    if (entry.examples.length < this.examples) entry.examples.push(example);
  }
  list(): ProblemSummary[] {
    return [...this.byClass.values()].sort((a, b) => b.count - a.count || a.field.localeCompare(b.field));
  }
}

interface AliasIndex {
  firstKey: Map<string, string>;
  counted: Set<string>;
  summary: DuplicateSummary;
}

const isBlank = (value: unknown): boolean =>
  value === null || value === undefined || (typeof value === 'string' && value.trim() === '');

/** The row's username, or undefined when the mapping cannot build one (the sync dead-letters such a row). */
const usernameOf = (mapping: CompiledMapping, row: Row): string | undefined => {
  try {
    const username = mapping.usernameFromRow(row);
    return username === UNKNOWN ? undefined : username;
  } catch {
    return undefined;
  }
};

export class AssessAggregator {
  private users = 0;
  private disabled = 0;
  private groupAdds = 0;
  private outside = 0;
  private readonly nonNull = new Map<string, number>();
  private readonly problems: Tally;
  private readonly dropped: Tally;
  private readonly aliases = new Map<string, AliasIndex>();
  private readonly dlq = { rows: 0, examples: [] as string[] };

  constructor(
    private readonly mapping: CompiledMapping,
    private readonly o: AssessOptions,
  ) {
    this.problems = new Tally(o.examples);
    this.dropped = new Tally(o.examples);
    for (const column of mapping.readColumns) this.nonNull.set(column, 0);
    const mapped = new Set(mapping.attributes.map((a) => a.name));
    for (const attribute of o.aliasAttributes ?? DEFAULT_ALIASES) {
      if (!mapped.has(attribute)) continue;
      this.aliases.set(attribute, {
        firstKey: new Map(),
        counted: new Set(),
        summary: { attribute, values: 0, rows: 0, examples: [] },
      });
    }
  }

  add(row: Row, key: string): void {
    this.users++;
    for (const [column, count] of this.nonNull) if (!isBlank(row[column])) this.nonNull.set(column, count + 1);
    this.checkFields(row, key);
    // The sync's rule (map-event.ts): outside the cohort, a row is skipped whatever it holds.
    const username = usernameOf(this.mapping, row);
    if (username !== undefined && !this.mapping.inCohort(username)) {
      this.outside++;
      return;
    }
    const desired = desiredUserFromRow(this.mapping, row);
    if (!desired.ok) {
      this.dlq.rows++;
      if (this.dlq.examples.length < this.o.examples) this.dlq.examples.push(key);
      return;
    }
    const user = desired.value;
    if (!user.enabled) this.disabled++;
    this.groupAdds += user.groups?.length ?? 0;
    for (const [attribute, index] of this.aliases) {
      const value = user.attributes[attribute];
      if (value) this.noteAlias(index, value, key);
    }
  }

  /** Each field on its own, so a row with three problems shows all three (the mapper stops at the first). */
  private checkFields(row: Row, key: string): void {
    const m = this.mapping;
    const source = (columns: readonly string[]): string =>
      redactExample(
        columns
          .map((c) => toText(row[c] ?? null) ?? '')
          .join(' ')
          .trim() || null,
      );
    const guard = (field: string, columns: readonly string[], fn: () => void): void => {
      try {
        fn();
      } catch (error) {
        if (!(error instanceof MappingError)) throw error;
        this.problems.add(field, problemClass(error.message, field), { key, value: source(columns) });
      }
    };
    guard('username', m.usernameColumns, () => m.usernameFromRow(row));
    for (const attribute of m.attributes) {
      guard(attribute.name, attribute.columns, () => {
        const value = attribute.read(row);
        // Only a single column can be told apart: a template of several has no one source value.
        if (value === '' && attribute.columns.length === 1 && !isBlank(row[attribute.columns[0] as string])) {
          this.dropped.add(
            attribute.name,
            'value removed by the mapping (invalid, onInvalid: remove, or mapped to null)',
            { key, value: source(attribute.columns) },
          );
        }
        return value === UNKNOWN ? undefined : value;
      });
    }
    if (m.spec.status) guard('status', [m.spec.status.column], () => m.enabledFromRow(row));
    if (m.groupsFromRow && m.spec.groups?.column) guard('groups', [m.spec.groups.column], () => m.groupsFromRow?.(row));
  }

  private noteAlias(index: AliasIndex, value: string, key: string): void {
    // Hash of the case-folded value: 12 bytes are plenty against collisions at 10^8 users
    // (p ~ 10^-13) and keep the entry small; the value itself is never kept.
    const hash = createHash('sha1').update(value.toLowerCase()).digest().subarray(0, 12).toString('latin1');
    const first = index.firstKey.get(hash);
    if (first === undefined) {
      index.firstKey.set(hash, key);
      return;
    }
    const summary = index.summary;
    summary.rows++;
    if (!index.counted.has(hash)) {
      index.counted.add(hash);
      summary.values++;
    }
    if (summary.examples.length < this.o.examples)
      summary.examples.push({ value: redactExample(value), keys: [first, key] });
  }

  report(): AssessReport {
    const { budget } = this.o;
    const inCohort = this.users - this.outside;
    const creatable = inCohort - this.dlq.rows;
    const calls: Partial<Record<QuotaCategory, number>> = {};
    if (this.mapping.createPolicy === 'always') {
      calls.UserCreation = creatable;
      const updates = this.disabled + (this.o.confirmCreated ? creatable : 0);
      if (updates > 0) calls.UserUpdate = updates;
      if (this.groupAdds > 0) calls.UserResourceUpdate = this.groupAdds;
    }
    let seconds = 0;
    let bottleneck: QuotaCategory | null = null;
    for (const [category, count] of Object.entries(calls) as [QuotaCategory, number][]) {
      const s = count / budget[category];
      if (s > seconds) [seconds, bottleneck] = [s, category];
    }
    let entries = 0;
    for (const index of this.aliases.values()) entries += index.firstKey.size;
    return {
      table: this.o.table,
      users: this.users,
      coverage: [...this.nonNull].map(([column, nonNull]) => ({
        column,
        nonNull,
        percent: this.users === 0 ? 0 : Math.round((nonNull / this.users) * 1000) / 10,
      })),
      problems: this.problems.list(),
      dropped: this.dropped.list(),
      duplicates: [...this.aliases.values()].map((i) => i.summary),
      dlq: this.dlq,
      disabled: this.disabled,
      ...(this.mapping.spec.cohort === undefined
        ? {}
        : { cohort: { rule: describeCohort(this.mapping.spec.cohort), users: inCohort, outside: this.outside } }),
      estimate: {
        createPolicy: this.mapping.createPolicy,
        calls,
        rates: budget,
        seconds: Math.ceil(seconds),
        bottleneck,
      },
      memory: { aliasIndexEntries: entries, bytesPerEntry: BYTES_PER_ALIAS_ENTRY },
    };
  }
}
