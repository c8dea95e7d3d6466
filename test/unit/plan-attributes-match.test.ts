// The planner's fast "nothing to update" check, compiled from the mapping's attribute names,
// must never change a plan: with it and without it, the same calls for the same inputs.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import type { Attributes, CurrentUser, DesiredUser } from '../../src/core/types.js';
import { compileMapping } from '../../src/pipeline/map/compile-mapping.js';
import { parseMappingText } from '../../src/pipeline/map/load-mapping.js';
import { planOptionsFromMapping } from '../../src/pipeline/plan/plan-options.js';
import { planUser } from '../../src/pipeline/plan/plan-user.js';

const examplePath = new URL('../../examples/mapping.yaml', import.meta.url).pathname;
const mapping = compileMapping(parseMappingText(readFileSync(examplePath, 'utf8'), examplePath));
const compiled = planOptionsFromMapping(mapping);
const { attributesMatch: _unused, ...perAttribute } = compiled;
const names = mapping.attributes.map((a) => a.name);
const origin = { topic: 't', partition: 0, offset: '1' };

// Few distinct values, so equal and unequal attributes both come up often; "" means removed.
const value = fc.constantFrom('', 'a', 'b', 'true', 'false');
const complete = fc.record(Object.fromEntries(names.map((n) => [n, value]))) as fc.Arbitrary<Attributes>;
const partial = fc.dictionary(fc.constantFrom(...names), value) as fc.Arbitrary<Attributes>;
// Cognito's side: the wanted values with a few of them changed (often none).
const wantedAndHeld = fc.oneof(complete, partial).chain((wanted) =>
  fc.tuple(
    fc.constant(wanted),
    fc.dictionary(fc.constantFrom(...names), value, { maxKeys: 2 }).map((changes) => ({ ...wanted, ...changes })),
  ),
);

test('compiled attributesMatch exists for a mapping and agrees with the per-attribute comparison', () => {
  expect(typeof compiled.attributesMatch).toBe('function');
  fc.assert(
    fc.property(wantedAndHeld, fc.boolean(), ([wanted, held], enabled) => {
      const have: Attributes = Object.fromEntries(Object.entries(held).filter(([, v]) => v !== '')); // Cognito omits empty ones
      const current: CurrentUser = { username: 'u', attributes: have, enabled, groups: [], version: '01' };
      const user: DesiredUser = { username: 'u', attributes: wanted, enabled: true };
      const intent = { kind: 'upsert' as const, user, version: '02', origin, sourceTsMs: null };
      expect(planUser(current, intent, compiled)).toEqual(planUser(current, intent, perAttribute));
    }),
    { numRuns: 2000 },
  );
});

test('an attribute the desired user lacks (unknown this event) is never taken as matching', () => {
  const match = compiled.attributesMatch!;
  const full = Object.fromEntries(names.map((n) => [n, 'x']));
  expect(match(full, full)).toBe(true);
  const { email: _email, ...withoutEmail } = full;
  expect(match(withoutEmail, full)).toBe(false);
  expect(match({ ...full, email: '' }, withoutEmail)).toBe(true); // absent in Cognito = empty
});
