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

/** cognito-idp actions for every `new XCommand(` in the .ts files under `dir`. */
function calledActions(dir: string): string[] {
  const called = new Set<string>();
  for (const file of sourceFiles(dir)) {
    for (const m of readFileSync(file, 'utf8').matchAll(/new ([A-Z][A-Za-z]+)Command\(/g))
      called.add(`cognito-idp:${m[1]}`);
  }
  return [...called].sort();
}

interface Statement {
  Sid: string;
  Action: string[];
  Resource: string;
}

const policy = (): Statement[] =>
  (JSON.parse(readFileSync(join(ROOT, 'docs/iam-policy.json'), 'utf8')) as { Statement: Statement[] }).Statement;

describe('least-privilege IAM policy (docs/iam-policy.json)', () => {
  test('lists exactly the Cognito actions that src/ sends', () => {
    // iam:PassRole (import's CloudWatch Logs role) is no Cognito action: not in this comparison.
    const allowed = new Set(policy().flatMap((s) => s.Action.filter((a) => a.startsWith('cognito-idp:'))));
    expect(calledActions(join(ROOT, 'src'))).toEqual([...allowed].sort());
  });

  test("the Post Authentication Lambda's statement grants exactly what src/lambda/ sends, on the pool only", () => {
    // The triggers run under their own Lambda role: it gets this statement, not the sync's.
    const lambda = policy().find((s) => s.Sid === 'PostAuthenticationTriggerLambda');
    expect([...(lambda?.Action ?? [])].sort()).toEqual(calledActions(join(ROOT, 'src/lambda')));
    expect(lambda?.Resource).toMatch(/:userpool\/USER_POOL_ID$/);
  });
});
