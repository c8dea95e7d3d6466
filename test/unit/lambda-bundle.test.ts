// The Lambda triggers ship as one file each: build them the way `npm run build:lambda` does and
// run them where a deployment runs them — a folder with no node_modules anywhere above it and an
// empty NODE_PATH, so nothing can resolve from the developer's machine. (A native argon2 package
// left external once made the User Migration bundle fail to load on a clean machine while this
// test passed on the machines it was written on.)
import { describe, expect, test } from '@jest/globals';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createHash, pbkdf2Sync, randomBytes, scryptSync } from 'node:crypto';
import bcrypt from 'bcryptjs';
import { hash as argon2Hash } from '@node-rs/argon2';

const ROOT = resolve(import.meta.dirname, '../..');

/** A fresh folder outside the repository, with no node_modules in it or in any parent. */
const isolatedDir = (prefix: string): string => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  for (let d = dir; ; d = dirname(d)) {
    if (existsSync(join(d, 'node_modules')))
      throw new Error(`${d}/node_modules exists: the bundle test needs a folder with none above it`);
    if (dirname(d) === d) break;
  }
  return dir;
};

/** Bundles one entry with the options of `npm run build:lambda` (package.json), into `dir`. */
const bundle = (entry: string, dir: string, file: string): string => {
  const script = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> })
    .scripts['build:lambda'] as string;
  // The same flags as the build (the entries and outdir differ): a flag added there is tested here.
  const flags = [...script.matchAll(/--(?:external|platform|target|format|bundle)(?:[:=][^\s]+)?/g)].map((m) => m[0]);
  const out = join(dir, file);
  execFileSync(
    join(ROOT, 'node_modules/.bin/esbuild'),
    [
      entry,
      ...flags,
      `--outfile=${out}`,
      '--log-level=error',
      "--banner:js=import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
    ],
    { cwd: ROOT },
  );
  return out;
};

/** Runs an ES module snippet in `dir` with nothing to resolve packages from. */
const runIsolated = (dir: string, code: string, env: Record<string, string> = {}) =>
  spawnSync(process.execPath, ['--input-type=module', '-e', code], {
    cwd: dir,
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', NODE_PATH: '', ...env },
  });

describe('npm run build:lambda', () => {
  test('the build marks nothing external but pg-native (which pg loads only on request)', () => {
    const script = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> })
      .scripts['build:lambda'] as string;
    expect([...script.matchAll(/--external:(\S+)/g)].map((m) => m[1])).toEqual(['pg-native']);
  });

  test('the User Migration bundle loads from an empty folder and exports handler', () => {
    const dir = isolatedDir('lambda-run-');
    const out = bundle('src/lambda/user-migration.ts', dir, 'index.mjs');
    expect(statSync(out).size).toBeGreaterThan(10_000);
    const probe = runIsolated(dir, `const m = await import('./index.mjs'); console.log(typeof m.handler);`);
    expect(probe.stderr).toBe('');
    expect(probe.stdout.trim()).toBe('function');
  });

  test('the bundled password verifier checks every supported hash family from an empty folder', async () => {
    const password = 'correct horse ☃';
    const salt = randomBytes(8).toString('hex');
    const vectors: Record<string, string> = {
      bcrypt: bcrypt.hashSync(password, 4),
      // Made by an independent implementation (the native @node-rs/argon2, a devDependency only).
      argon2id: await argon2Hash(password, { memoryCost: 19_456, timeCost: 2, parallelism: 1 }),
      argon2i: await argon2Hash(password, { memoryCost: 1024, timeCost: 2, parallelism: 1, algorithm: 1 }),
      pbkdf2: `pbkdf2_sha256$1000$${salt}$${pbkdf2Sync(password, salt, 1000, 32, 'sha256').toString('base64')}`,
      scrypt: `scrypt:16384:8:1$${salt}$${scryptSync(password, salt, 64, { N: 16384, r: 8, p: 1 }).toString('hex')}`,
      'salted-digest': `sha256:${salt}:${createHash('sha256')
        .update(salt + password)
        .digest('hex')}`,
    };
    const dir = isolatedDir('lambda-hash-');
    bundle('src/lambda/password-hash.ts', dir, 'password-hash.mjs');
    const code = `
      const { verifyPassword } = await import('./password-hash.mjs');
      const vectors = ${JSON.stringify(vectors)};
      const out = {};
      for (const [family, stored] of Object.entries(vectors)) {
        out[family] = [await verifyPassword(${JSON.stringify(password)}, stored), await verifyPassword('wrong', stored)];
      }
      console.log(JSON.stringify(out));`;
    const probe = runIsolated(dir, code);
    expect(probe.stderr).toBe('');
    const results = JSON.parse(probe.stdout) as Record<string, [unknown, unknown]>;
    for (const family of Object.keys(vectors)) {
      expect([family, results[family]]).toEqual([
        family,
        [
          { ok: true, value: true },
          { ok: true, value: false },
        ],
      ]);
    }
  });

  test('the Post Authentication trigger bundles on its own, without the password hashers, and lets a sign-in through', () => {
    const dir = isolatedDir('lambda-run-');
    const out = bundle('src/lambda/post-authentication.ts', dir, 'post-authentication.mjs');
    const source = readFileSync(out, 'utf8');
    // Post Authentication verifies no password: the hashers stay out of its bundle.
    expect(source).not.toMatch(/argon2|bcryptjs/);
    const event = {
      triggerSource: 'PostAuthentication_Authentication',
      userPoolId: 'p',
      userName: 'legacy_1',
      request: { userAttributes: {} },
      response: {},
    };
    const probe = runIsolated(
      dir,
      `const m = await import('./post-authentication.mjs'); process.stderr.write(JSON.stringify(await m.handler(${JSON.stringify(event)})));`,
      {
        PENDING_GROUPS_ATTRIBUTE: 'custom:cdc_jit_groups',
      },
    );
    // No marker: the event comes straight back, without configuration, database or Cognito.
    expect(JSON.parse(probe.stderr)).toEqual(event);
  });
});
