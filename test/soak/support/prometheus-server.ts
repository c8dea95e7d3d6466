// The stack's real Prometheus (scripts/stack/up.sh, component `prometheus`): the soak registers
// its sync as a scrape target (file service discovery), then runs every PromQL expression of
// ops/grafana-dashboard.json and reads the state of the ops/alerts.yml rules.
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { httpGet } from './sync-process.js';

export interface PrometheusEnv {
  PROMETHEUS_URL: string;
  PROMETHEUS_TARGETS_DIR: string;
  PROMETHEUS_JOB: string;
}

export function prometheusEnv(env: object): PrometheusEnv {
  const e = env as Partial<PrometheusEnv>;
  if (!e.PROMETHEUS_URL || !e.PROMETHEUS_TARGETS_DIR || !e.PROMETHEUS_JOB) {
    throw new Error(
      'the soak needs the stack\'s Prometheus: run "bash scripts/stack/up.sh" (STACK_COMPONENTS=prometheus adds it to a running stack)',
    );
  }
  return e as PrometheusEnv;
}

/** Registers `address` (host:port) as a target of the stack's scrape job; returns the remover. */
export function registerTarget(p: PrometheusEnv, run: string, address: string): () => void {
  const file = join(p.PROMETHEUS_TARGETS_DIR, `soak-${run}.json`);
  // written aside and renamed: Prometheus never reads half a file (it watches *.json only)
  writeFileSync(`${file}.tmp`, JSON.stringify([{ targets: [address], labels: { soak_run: run } }]));
  renameSync(`${file}.tmp`, file);
  return () => rmSync(file, { force: true });
}

async function api<T>(p: PrometheusEnv, path: string): Promise<T> {
  const r = await httpGet(`${p.PROMETHEUS_URL}${path}`);
  const body = JSON.parse(r.body) as { status: string; data: T; error?: string };
  if (r.status !== 200 || body.status !== 'success')
    throw new Error(`Prometheus ${path}: HTTP ${r.status} ${body.error ?? ''}`);
  return body.data;
}

interface Target {
  labels: Record<string, string>;
  health: string;
  lastScrape: string;
  lastError: string;
}

/** The soak's target once Prometheus has scraped it successfully at or after `afterMs`. */
export async function waitForScrape(
  p: PrometheusEnv,
  run: string,
  afterMs: number,
  timeoutMs: number,
): Promise<Target> {
  const deadline = Date.now() + timeoutMs;
  let last: Target | undefined;
  for (;;) {
    const data = await api<{ activeTargets: Target[] }>(p, '/api/v1/targets?state=active');
    last = data.activeTargets.find((t) => t.labels.soak_run === run);
    if (last && last.health === 'up' && Date.parse(last.lastScrape) >= afterMs) return last;
    if (Date.now() > deadline)
      throw new Error(
        `Prometheus did not scrape the soak's sync within ${timeoutMs} ms: ${JSON.stringify(last ?? 'target not discovered')}`,
      );
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Every PromQL expression of a Grafana dashboard, with its panel's title. */
export function dashboardQueries(file: string): { panel: string; expr: string }[] {
  const out: { panel: string; expr: string }[] = [];
  const walk = (panels: { title?: string; targets?: { expr?: string }[]; panels?: unknown[] }[]): void => {
    for (const panel of panels) {
      for (const t of panel.targets ?? []) if (t.expr) out.push({ panel: panel.title ?? '(untitled)', expr: t.expr });
      walk((panel.panels ?? []) as typeof panels);
    }
  };
  walk((JSON.parse(readFileSync(file, 'utf8')) as { panels: Parameters<typeof walk>[0] }).panels);
  return out;
}

/** An instant query: the number of series it returned, and the first few values. */
export async function instantQuery(p: PrometheusEnv, expr: string): Promise<{ series: number; values: string[] }> {
  const data = await api<{ resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] }>(
    p,
    `/api/v1/query?query=${encodeURIComponent(expr)}`,
  );
  return { series: data.result.length, values: data.result.slice(0, 3).map((r) => r.value[1]) };
}

export interface RuleState {
  name: string;
  state: string;
  health: string;
  lastError?: string;
  lastEvaluation: string;
}

/** The alerting rules Prometheus evaluates, once every one has been evaluated at or after `afterMs`. */
export async function rulesEvaluatedAfter(p: PrometheusEnv, afterMs: number, timeoutMs: number): Promise<RuleState[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const data = await api<{ groups: { rules: (RuleState & { type: string })[] }[] }>(p, '/api/v1/rules?type=alert');
    const rules = data.groups.flatMap((g) => g.rules);
    if (rules.length > 0 && rules.every((r) => Date.parse(r.lastEvaluation) >= afterMs))
      return rules.map(({ name, state, health, lastError, lastEvaluation }) => ({
        name,
        state,
        health,
        lastError,
        lastEvaluation,
      }));
    if (Date.now() > deadline)
      throw new Error(`Prometheus did not evaluate its alert rules within ${timeoutMs} ms (${rules.length} rules)`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
