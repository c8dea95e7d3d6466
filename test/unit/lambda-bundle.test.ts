// The User Migration Lambda ships as one file (plus the prebuilt argon2 package): build it the
// way a deployment does and check the bundle loads on its own and exports the handler.
import { describe, expect, test } from '@jest/globals';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, copyFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');

describe('npm run build:lambda', () => {
  test('produces one ES module that loads outside the repository and exports handler', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'lambda-')), 'index.mjs');
    execFileSync(join(ROOT, 'node_modules/.bin/esbuild'), [
      'src/lambda/user-migration.ts', '--bundle', '--platform=node', '--target=node22', '--format=esm', `--outfile=${out}`,
      '--external:@node-rs/argon2', '--external:pg-native', '--log-level=error',
      "--banner:js=import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
    ], { cwd: ROOT });
    expect(statSync(out).size).toBeGreaterThan(10_000);
    // Only the argon2 native package stays outside the bundle; it is not needed to load.
    const copy = join(mkdtempSync(join(tmpdir(), 'lambda-run-')), 'index.mjs');
    copyFileSync(out, copy);
    const probe = spawnSync(process.execPath, ['--input-type=module', '-e', `const m = await import(${JSON.stringify(copy)}); console.log(typeof m.handler);`], { encoding: 'utf8' });
    expect(probe.stderr).toBe('');
    expect(probe.stdout.trim()).toBe('function');
  });
});
