// ops/alerts.yml through Prometheus' own tool: `promtool check rules`, and `promtool test rules`
// with one test file per alert (ops/alert-tests/<alert>.test.yml) that shows the alert firing on
// series that should fire it and staying quiet on series that should not. Each test file is also
// run against the rules with that alert's expression replaced by one that never fires and by one
// that always fires: both must fail, so neither half of a test file is empty of meaning.
// promtool comes from Debian's prometheus package: `npm test` installs it first
// (scripts/stack/ensure-prometheus.sh).
import { describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import YAML from 'yaml';

const ROOT = resolve(import.meta.dirname, '../..');
const RULES = join(ROOT, 'ops/alerts.yml');
const TESTS_DIR = join(ROOT, 'ops/alert-tests');
const RULE_FILES_LINE = 'rule_files: [../alerts.yml]';

function findPromtool(): string {
  for (const candidate of [
    process.env.PROMTOOL,
    '/usr/bin/promtool',
    ...(process.env.PATH ?? '').split(':').map((d) => join(d, 'promtool')),
  ]) {
    if (candidate && existsSync(candidate)) return candidate;
  }
  throw new Error('promtool not found: run "bash scripts/stack/ensure-prometheus.sh" (npm test does) or set PROMTOOL');
}

function promtool(...args: string[]): { code: number | null; out: string } {
  const r = spawnSync(findPromtool(), args, { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

interface AlertRule {
  alert: string;
  expr: string;
}
const rulesDoc = YAML.parse(readFileSync(RULES, 'utf8')) as { groups: { name: string; rules: AlertRule[] }[] };
const alerts = rulesDoc.groups.flatMap((g) => g.rules).filter((r) => r.alert);
const testFile = (alert: string): string => join(TESTS_DIR, `${alert}.test.yml`);

interface AlertTestFile {
  rule_files: string[];
  tests: { name: string; alert_rule_test: { alertname: string; exp_alerts: unknown[] }[] }[];
}

/** Runs one alert's test file against the rules with that alert's expression replaced. */
function testAgainstMutatedRules(alert: string, expr: string): { code: number | null; out: string } {
  const dir = mkdtempSync(join(tmpdir(), 'alert-mutant-'));
  try {
    const doc = YAML.parse(readFileSync(RULES, 'utf8')) as typeof rulesDoc;
    const rule = doc.groups.flatMap((g) => g.rules).find((r) => r.alert === alert)!;
    rule.expr = expr;
    writeFileSync(join(dir, 'alerts.yml'), YAML.stringify(doc));
    const text = readFileSync(testFile(alert), 'utf8');
    expect(text).toContain(RULE_FILES_LINE);
    writeFileSync(
      join(dir, 'test.yml'),
      text.replace(RULE_FILES_LINE, `rule_files: [${JSON.stringify(join(dir, 'alerts.yml'))}]`),
    );
    return promtool('test', 'rules', join(dir, 'test.yml'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('ops/alerts.yml', () => {
  test('promtool check rules accepts every rule', () => {
    const r = promtool('check', 'rules', RULES);
    expect(r.out).toContain(`SUCCESS: ${alerts.length} rules found`);
    expect(r.code).toBe(0);
  });

  test('every alert has a test file that shows it firing and not firing', () => {
    expect(alerts.length).toBeGreaterThan(0);
    for (const { alert } of alerts) {
      expect(existsSync(testFile(alert)) ? alert : `${alert}: missing ${testFile(alert)}`).toBe(alert);
      const doc = YAML.parse(readFileSync(testFile(alert), 'utf8')) as AlertTestFile;
      expect(doc.rule_files).toEqual(['../alerts.yml']);
      const cases = doc.tests.flatMap((t) => t.alert_rule_test);
      expect(new Set(cases.map((c) => c.alertname))).toEqual(new Set([alert]));
      expect({
        alert,
        fires: cases.some((c) => c.exp_alerts.length > 0),
        staysQuiet: cases.some((c) => c.exp_alerts.length === 0),
      }).toEqual({ alert, fires: true, staysQuiet: true });
    }
  });

  test('promtool test rules: every test file passes', () => {
    const files = alerts.map((a) => testFile(a.alert));
    const r = promtool('test', 'rules', ...files);
    process.stdout.write(`promtool test rules (${files.length} files):\n${r.out}\n`);
    expect(r.code).toBe(0);
    expect(r.out.match(/SUCCESS/g)?.length).toBe(files.length);
    expect(r.out).not.toContain('FAILED');
  });

  test.each(alerts.map((a) => a.alert))(
    '%s: its tests fail when the alert never fires, and when it always fires',
    (alert) => {
      const never = testAgainstMutatedRules(alert, 'vector(1) == 2');
      expect(never.code).not.toBe(0);
      expect(never.out).toMatch(/got:\s*\[\]/); // an expected firing that did not happen
      const always = testAgainstMutatedRules(alert, 'vector(1)');
      expect(always.code).not.toBe(0);
      expect(always.out).toMatch(/exp:\s*\[\]/); // a quiet case that fired
    },
  );
});
