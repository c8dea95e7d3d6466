// Every series the sync exposes is documented in docs/metrics.md, and every documented one
// exists: the doc is what on-call people read when an alert fires.
import { describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createMetrics } from '../../src/ops/metrics.js';

const ROOT = resolve(import.meta.dirname, '../..');

describe('docs/metrics.md', () => {
  test('documents exactly the cognito_sync_* series the code registers', async () => {
    const registered = (await createMetrics().registry.getMetricsAsJSON())
      .map((m) => m.name)
      .filter((n) => !/^cognito_sync_(process|nodejs)_/.test(n));
    const documented = [
      ...readFileSync(resolve(ROOT, 'docs/metrics.md'), 'utf8').matchAll(/^\| `(cognito_sync_[a-z_]+)` \|/gm),
    ].map((m) => m[1]);
    expect(documented.sort()).toEqual(registered.sort());
  });

  test('alert rules and the dashboard only use series that exist', async () => {
    const names = new Set((await createMetrics().registry.getMetricsAsJSON()).map((m) => m.name));
    const used = new Set<string>();
    for (const file of ['ops/alerts.yml', 'ops/grafana-dashboard.json']) {
      for (const m of readFileSync(resolve(ROOT, file), 'utf8').matchAll(/cognito_sync_[a-z_]+/g))
        used.add(m[0].replace(/_(bucket|sum|count)$/, ''));
    }
    expect([...used].filter((n) => !names.has(n))).toEqual([]);
  });
});
