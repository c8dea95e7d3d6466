// Validates a raw mapping against schemas/mapping.schema.json and turns Ajv's errors into
// issues a person can act on: the exact path (attributes.email.transform[1]) and what is wrong.
import Ajv2020 from 'ajv/dist/2020.js';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { formatPath, pointerToSegments, type Issue } from './config-path.js';
import { mappingSchema } from './mapping-schema.js';

let validator: ValidateFunction | undefined;

// Compiled on first use, not at import: the hot path never needs Ajv.
const getValidator = (): ValidateFunction => {
  validator ??= new Ajv2020.default({ allErrors: true, verbose: true, strict: true, allowUnionTypes: true }).compile(
    mappingSchema,
  );
  return validator;
};

const describe = (value: unknown): string =>
  typeof value === 'string' ? `"${value}"` : (JSON.stringify(value) ?? String(value));

const listOf = (values: readonly unknown[]): string => values.map(describe).join(', ');

const knownKeys = (error: ErrorObject): string[] => {
  const properties = (error.parentSchema as { properties?: Record<string, unknown> } | undefined)?.properties;
  return properties ? Object.keys(properties) : [];
};

const toIssue = (error: ErrorObject, data: unknown): Issue | undefined => {
  const segments = pointerToSegments(error.instancePath, data);
  const params = error.params as Record<string, unknown>;
  // Errors about a transform list item itself (Ajv's schemaPath is relative to the $ref, so
  // the instance path is what tells).
  const inTransform =
    segments.length >= 2 &&
    segments[segments.length - 2] === 'transform' &&
    typeof segments[segments.length - 1] === 'number';
  switch (error.keyword) {
    case 'if':
      return undefined; // always accompanied by the error of the branch that applied
    case 'required':
      return { path: formatPath([...segments, String(params.missingProperty)]), message: 'is required' };
    case 'additionalProperties': {
      const key = String(params.additionalProperty);
      const known = knownKeys(error);
      const what = inTransform ? 'is not a transform with options' : 'is not a known setting';
      return {
        path: formatPath([...segments, key]),
        message: known.length > 0 ? `${what} (expected one of: ${known.join(', ')})` : what,
      };
    }
    case 'enum':
      return {
        path: formatPath(segments),
        message: `${describe(error.data)} ${inTransform ? 'is not a transform' : 'is not allowed'}; expected one of: ${listOf(params.allowedValues as unknown[])}`,
      };
    case 'minProperties':
    case 'maxProperties':
      if (inTransform)
        return {
          path: formatPath(segments),
          message: 'a transform object has exactly one key, its name, e.g. { e164: { defaultCountryCode: "49" } }',
        };
      return { path: formatPath(segments), message: error.message ?? 'has the wrong number of entries' };
    case 'pattern': {
      const description = (error.parentSchema as { description?: string } | undefined)?.description;
      return {
        path: formatPath(segments),
        message: `${describe(error.data)} ${description ?? `must match ${String(params.pattern)}`}`,
      };
    }
    case 'type':
      if (inTransform)
        return {
          path: formatPath(segments),
          message: `must be a transform name such as "trim" or an object such as { e164: { defaultCountryCode: "49" } }, got ${describe(error.data)}`,
        };
      return {
        path: formatPath(segments),
        message: `must be ${String(params.type).replace(/,/g, ' or ')}, got ${describe(error.data)}`,
      };
    default:
      return { path: formatPath(segments), message: error.message ?? `fails ${error.keyword}` };
  }
};

/** Issues for every place the raw mapping breaks the schema; empty when it conforms. */
export const schemaIssues = (raw: unknown): Issue[] => {
  const validate = getValidator();
  if (validate(raw)) return [];
  const issues: Issue[] = [];
  const seen = new Set<string>();
  for (const error of validate.errors ?? []) {
    const issue = toIssue(error, raw);
    if (!issue) continue;
    const key = `${issue.path}\u0000${issue.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    issues.push(issue);
  }
  return issues;
};
