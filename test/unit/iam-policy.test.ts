// The documented least-privilege policy must name exactly the Cognito actions the code calls:
// a new call without a policy line would fail in production with AccessDenied, and a policy
// line without a call is privilege nobody needs.
import { describe, expect, test } from '@jest/globals';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith('.ts') ? [path] : [];
  });
}

describe('least-privilege IAM policy (docs/iam-policy.json)', () => {
  test('lists exactly the Cognito actions that src/ sends', () => {
    const called = new Set<string>();
    for (const file of sourceFiles(join(ROOT, 'src'))) {
      for (const m of readFileSync(file, 'utf8').matchAll(/new ([A-Z][A-Za-z]+)Command\(/g)) called.add(`cognito-idp:${m[1]}`);
    }
    const policy = JSON.parse(readFileSync(join(ROOT, 'docs/iam-policy.json'), 'utf8')) as { Statement: { Action: string[] }[] };
    const allowed = new Set(policy.Statement.flatMap((s) => s.Action));
    expect([...called].sort()).toEqual([...allowed].sort());
  });
});
