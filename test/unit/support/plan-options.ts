import type { PlanOptions } from '../../../src/pipeline/plan/plan-options.js';

/** Planner options for tests: the example mapping's policies, every group owned, nothing create-only. */
export const planOptions = (overrides: Partial<PlanOptions> = {}): PlanOptions => ({
  versionAttribute: 'custom:cdc_version',
  createPolicy: 'always',
  deletePolicy: 'delete',
  removeGroups: true,
  ownsGroup: () => true,
  createOnlyAttributes: new Set(),
  ...overrides,
});
