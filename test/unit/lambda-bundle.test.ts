// The User Migration Lambda ships as one file (plus the prebuilt argon2 package): build it the
// way a deployment does and check the bundle loads on its own and exports the handler.
import { describe, expect, test } from '@jest/globals';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, copyFileSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');

/** Bundles one trigger with the options of `npm run build:lambda`, into a fresh temp folder. */
const bundle = (entry: string, file: string): string => {
  const out = join(mkdtempSync(join(tmpdir(), 'lambda-')), file);
  execFileSync(join(ROOT, 'node_modules/.bin/esbuild'), [
    entry, '--bundle', '--platform=node', '--target=node22', '--format=esm', `--outfile=${out}`,
    '--external:@node-rs/argon2', '--external:pg-native', '--log-level=error',
    "--banner:js=import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
  ], { cwd: ROOT });
  return out;
};

describe('npm run build:lambda', () => {
  test('produces one ES module that loads outside the repository and exports handler', () => {
    const out = bundle('src/lambda/user-migration.ts', 'index.mjs');
    expect(statSync(out).size).toBeGreaterThan(10_000);
    // Only the argon2 native package stays outside the bundle; it is not needed to load.
    const copy = join(mkdtempSync(join(tmpdir(), 'lambda-run-')), 'index.mjs');
    copyFileSync(out, copy);
    const probe = spawnSync(process.execPath, ['--input-type=module', '-e', `const m = await import(${JSON.stringify(copy)}); console.log(typeof m.handler);`], { encoding: 'utf8' });
    expect(probe.stderr).toBe('');
    expect(probe.stdout.trim()).toBe('function');
  });

  test('the Post Authentication trigger bundles on its own, without the password hashers, and lets a sign-in through', () => {
    const out = bundle('src/lambda/post-authentication.ts', 'post-authentication.mjs');
    const source = readFileSync(out, 'utf8');
    // argon2 is a native package the Post Authentication function does not ship.
    expect(source).not.toMatch(/from ["']@node-rs\/argon2["']|require\(["']@node-rs\/argon2["']\)/);
    const copy = join(mkdtempSync(join(tmpdir(), 'lambda-run-')), 'post-authentication.mjs');
    copyFileSync(out, copy);
    const event = { triggerSource: 'PostAuthentication_Authentication', userPoolId: 'p', userName: 'legacy_1', request: { userAttributes: {} }, response: {} };
    const probe = spawnSync(process.execPath, ['--input-type=module', '-e', `const m = await import(${JSON.stringify(copy)}); process.stderr.write(JSON.stringify(await m.handler(${JSON.stringify(event)})));`], {
      encoding: 'utf8',
      env: { ...process.env, PENDING_GROUPS_ATTRIBUTE: 'custom:cdc_jit_groups' },
    });
    // No marker: the event comes straight back, without configuration, database or Cognito.
    expect(JSON.parse(probe.stderr)).toEqual(event);
  });
});
