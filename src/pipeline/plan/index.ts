// The plan stage's public surface: coalesce a batch, plan one user's calls.
export { coalesce } from './coalesce.js';
export { planUser, storedVersionOf, type UserPlan } from './plan-user.js';
export { planOptionsFromMapping, type PlanOptions } from './plan-options.js';
