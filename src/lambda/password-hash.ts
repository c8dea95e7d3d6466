// Verifies a password against a legacy hash, whatever the legacy application used:
//   bcrypt            $2a$ / $2b$ / $2y$                       (bcryptjs, pure JS)
//   argon2            $argon2id$ / $argon2i$ / $argon2d$       (hash-wasm: WebAssembly inside the JS)
//   PBKDF2            Django pbkdf2_sha256$iter$salt$b64, Werkzeug pbkdf2:sha256:iter$salt$hex,
//                     passlib $pbkdf2-sha256$iter$ab64salt$ab64hash
//   scrypt            Werkzeug scrypt:N:r:p$salt$hex, passlib $scrypt$ln=,r=,p=$b64salt$b64hash
//   salted digests    configurable templates, e.g. "sha256:{salt}:{hash}" over "{salt}{password}"
// Digests are compared with crypto.timingSafeEqual; bcrypt and argon2 compare inside their
// libraries. Nothing here logs: callers get a format family name, never the hash.
import { createHash, pbkdf2, scrypt, timingSafeEqual, type BinaryLike, type ScryptOptions } from 'node:crypto';
import { promisify } from 'node:util';
import bcrypt from 'bcryptjs';
// argon2 through WebAssembly embedded in the package's JavaScript: esbuild bundles it into the
// Lambda's one file, so the deployed function needs no native package for its CPU (a native
// argon2 left external made the bundle fail to load at all, for bcrypt users too).
import { argon2Verify } from 'hash-wasm';
import { err, ok, type Result } from '../core/types.js';

const pbkdf2Async = promisify(pbkdf2);
const scryptAsync = promisify(scrypt) as (
  password: BinaryLike,
  salt: BinaryLike,
  keylen: number,
  options: ScryptOptions,
) => Promise<Buffer>;

export type HashFamily = 'bcrypt' | 'argon2' | 'pbkdf2' | 'scrypt' | 'salted-digest';

/** The stored value matches no known format (or a malformed one): the sign-in is refused. */
export interface UnsupportedHash {
  reason: 'unsupported-format' | 'malformed';
  family?: HashFamily;
}

export interface SaltedDigestFormat {
  /** e.g. "sha256:{salt}:{hash}" or "{hash}" (unsalted) or "md5${salt}${hash}". */
  pattern: string;
  algorithm: 'md5' | 'sha1' | 'sha256' | 'sha512';
  /** What is hashed, e.g. "{salt}{password}" or "{password}{salt}". */
  input: string;
  encoding: 'hex' | 'base64';
}

export const DEFAULT_DIGEST_FORMATS: readonly SaltedDigestFormat[] = [
  { pattern: 'sha256:{salt}:{hash}', algorithm: 'sha256', input: '{salt}{password}', encoding: 'hex' },
  { pattern: 'sha1:{salt}:{hash}', algorithm: 'sha1', input: '{salt}{password}', encoding: 'hex' },
  { pattern: 'md5:{salt}:{hash}', algorithm: 'md5', input: '{salt}{password}', encoding: 'hex' },
];

export interface VerifyOptions {
  digestFormats?: readonly SaltedDigestFormat[];
}

/** Constant-time equality of a computed key with the stored one (lengths are not secret). */
const sameBytes = (expected: Buffer, actual: Buffer): boolean =>
  expected.length === actual.length && expected.length > 0 && timingSafeEqual(expected, actual);

/** passlib's "adapted base64": "." for "+", no padding. */
const ab64 = (text: string): Buffer => Buffer.from(text.replace(/\./g, '+'), 'base64');

const DIGEST_BY_NAME: Record<string, string> = { sha1: 'sha1', sha256: 'sha256', sha512: 'sha512' };

// scrypt memory is 128 * N * r bytes; refuse parameters that would take the Lambda down.
const SCRYPT_MAX_MEMORY = 512 * 1024 * 1024;
const ARGON2_MAX_MEMORY = 512 * 1024 * 1024;

const verifyScrypt = async (
  password: string,
  salt: BinaryLike,
  expected: Buffer,
  N: number,
  r: number,
  p: number,
): Promise<Result<boolean, UnsupportedHash>> => {
  const memory = 128 * N * r;
  if (!Number.isInteger(N) || N < 2 || (N & (N - 1)) !== 0 || !(r > 0) || !(p > 0) || memory > SCRYPT_MAX_MEMORY)
    return err({ reason: 'malformed', family: 'scrypt' });
  const actual = await scryptAsync(password, salt, expected.length, { N, r, p, maxmem: memory * 2 + 1024 * 1024 });
  return ok(sameBytes(expected, actual));
};

const verifyPbkdf2 = async (
  password: string,
  salt: BinaryLike,
  iterations: number,
  digest: string | undefined,
  expected: Buffer,
): Promise<Result<boolean, UnsupportedHash>> => {
  if (!digest || !Number.isSafeInteger(iterations) || iterations < 1 || expected.length === 0)
    return err({ reason: 'malformed', family: 'pbkdf2' });
  return ok(sameBytes(expected, await pbkdf2Async(password, salt, iterations, expected.length, digest)));
};

const escapeRegex = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

interface CompiledDigest {
  regex: RegExp;
  format: SaltedDigestFormat;
}

const compiledDigests = new WeakMap<readonly SaltedDigestFormat[], CompiledDigest[]>();

const compileDigests = (formats: readonly SaltedDigestFormat[]): CompiledDigest[] => {
  let compiled = compiledDigests.get(formats);
  if (!compiled) {
    compiled = formats.map((format) => {
      const source = format.pattern
        .split(/(\{salt\}|\{hash\})/)
        .map((part) =>
          part === '{salt}'
            ? '(?<salt>.*?)'
            : part === '{hash}'
              ? format.encoding === 'hex'
                ? '(?<hash>[0-9a-fA-F]+)'
                : '(?<hash>[A-Za-z0-9+/]+=*)'
              : escapeRegex(part),
        )
        .join('');
      return { regex: new RegExp(`^${source}$`), format };
    });
    compiledDigests.set(formats, compiled);
  }
  return compiled;
};

/**
 * A stored hash taken apart: the one parser of legacy hash formats, shared by the User Migration
 * Lambda (verifyPassword) and `cognito-sync import` (which hands the formats Cognito can take to
 * an import job: adapters/cognito/import-csv-format.ts). Salts are bytes as the algorithm uses
 * them (Django's and Werkzeug's text salts as UTF-8, passlib's decoded from adapted base64).
 */
export type ParsedHash =
  | { family: 'bcrypt' /** $2a$, $2b$ or $2y$ */; prefix: string; cost: number; stored: string }
  | { family: 'argon2'; variant: 'id' | 'i' | 'd' /** KiB, when the string says */; memoryKiB?: number; stored: string }
  | {
      family: 'pbkdf2';
      style: 'django' | 'werkzeug' | 'passlib';
      digest: 'sha1' | 'sha256' | 'sha512';
      iterations: number;
      salt: Buffer;
      expected: Buffer;
    }
  | {
      family: 'scrypt';
      style: 'werkzeug' | 'passlib';
      N: number;
      r: number;
      p: number;
      salt: Buffer;
      expected: Buffer;
    }
  | { family: 'salted-digest'; format: SaltedDigestFormat; salt: string; expected: Buffer };

/** What the stored value is, or why it is none of the known formats. */
export const parseHash = (
  stored: string,
  digestFormats: readonly SaltedDigestFormat[] = DEFAULT_DIGEST_FORMATS,
): Result<ParsedHash, UnsupportedHash> => {
  let m = /^(\$2[aby]\$)(\d\d)\$[./A-Za-z0-9]{53}$/.exec(stored);
  if (m) return ok({ family: 'bcrypt', prefix: m[1] as string, cost: Number(m[2]), stored });
  m = /^\$argon2(id|i|d)\$/.exec(stored);
  if (m) {
    const memory = /\$m=(\d+),/.exec(stored);
    const variant = m[1] as 'id' | 'i' | 'd';
    return ok(
      memory
        ? { family: 'argon2', variant, memoryKiB: Number(memory[1]), stored }
        : { family: 'argon2', variant, stored },
    );
  }
  const pbkdf2 = (
    style: 'django' | 'werkzeug' | 'passlib',
    digest: string | undefined,
    iterations: number,
    salt: Buffer,
    expected: Buffer,
  ): Result<ParsedHash, UnsupportedHash> =>
    !digest || !Number.isSafeInteger(iterations) || iterations < 1 || expected.length === 0
      ? err({ reason: 'malformed', family: 'pbkdf2' })
      : ok({
          family: 'pbkdf2',
          style,
          digest: digest as 'sha1' | 'sha256' | 'sha512',
          iterations,
          salt,
          expected,
        });
  m = /^pbkdf2_(sha1|sha256|sha512)\$(\d+)\$([^$]*)\$([A-Za-z0-9+/=]+)$/.exec(stored); // Django
  if (m)
    return pbkdf2(
      'django',
      DIGEST_BY_NAME[m[1] as string],
      Number(m[2]),
      Buffer.from(m[3] as string, 'utf8'),
      Buffer.from(m[4] as string, 'base64'),
    );
  m = /^pbkdf2:(sha1|sha256|sha512)(?::(\d+))?\$([^$]*)\$([0-9a-f]+)$/.exec(stored); // Werkzeug
  if (m)
    return pbkdf2(
      'werkzeug',
      DIGEST_BY_NAME[m[1] as string],
      Number(m[2] ?? 600_000),
      Buffer.from(m[3] as string, 'utf8'),
      Buffer.from(m[4] as string, 'hex'),
    );
  m = /^\$pbkdf2(?:-(sha256|sha512))?\$(\d+)\$([./A-Za-z0-9]*)\$([./A-Za-z0-9]+)$/.exec(stored); // passlib
  if (m)
    return pbkdf2('passlib', DIGEST_BY_NAME[m[1] ?? 'sha1'], Number(m[2]), ab64(m[3] as string), ab64(m[4] as string));
  const scryptOf = (
    style: 'werkzeug' | 'passlib',
    N: number,
    r: number,
    p: number,
    salt: Buffer,
    expected: Buffer,
  ): Result<ParsedHash, UnsupportedHash> =>
    !Number.isInteger(N) || N < 2 || (N & (N - 1)) !== 0 || !(r > 0) || !(p > 0) || expected.length === 0
      ? err({ reason: 'malformed', family: 'scrypt' })
      : ok({ family: 'scrypt', style, N, r, p, salt, expected });
  m = /^scrypt:(\d+):(\d+):(\d+)\$([^$]*)\$([0-9a-f]+)$/.exec(stored); // Werkzeug
  if (m)
    return scryptOf(
      'werkzeug',
      Number(m[1]),
      Number(m[2]),
      Number(m[3]),
      Buffer.from(m[4] as string, 'utf8'),
      Buffer.from(m[5] as string, 'hex'),
    );
  m = /^\$scrypt\$ln=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9+/.]*)\$([A-Za-z0-9+/.]+)$/.exec(stored); // passlib
  if (m)
    return scryptOf(
      'passlib',
      2 ** Number(m[1]),
      Number(m[2]),
      Number(m[3]),
      ab64(m[4] as string),
      ab64(m[5] as string),
    );
  for (const { regex, format } of compileDigests(digestFormats)) {
    const d = regex.exec(stored);
    if (!d?.groups) continue;
    return ok({
      family: 'salted-digest',
      format,
      salt: d.groups.salt ?? '',
      expected: Buffer.from(d.groups.hash as string, format.encoding),
    });
  }
  return err({ reason: 'unsupported-format' });
};

/** ok(true): the password matches; ok(false): it does not; err: the hash cannot be checked. */
export const verifyPassword = async (
  password: string,
  stored: string,
  options: VerifyOptions = {},
): Promise<Result<boolean, UnsupportedHash>> => {
  const parsed = parseHash(stored, options.digestFormats ?? DEFAULT_DIGEST_FORMATS);
  if (!parsed.ok) return parsed;
  const hash = parsed.value;
  switch (hash.family) {
    case 'bcrypt':
      // $2y$ (PHP) and $2b$ are the same algorithm; bcryptjs knows $2a$/$2b$.
      return ok(await bcrypt.compare(password, stored.replace(/^\$2y\$/, '$2b$')));
    case 'argon2':
      // m is in KiB: refuse parameters that would take the Lambda down (as for scrypt).
      if (hash.memoryKiB !== undefined && hash.memoryKiB * 1024 > ARGON2_MAX_MEMORY)
        return err({ reason: 'malformed', family: 'argon2' });
      // hash-wasm refuses an empty password; Cognito never sends one (its password policy has a
      // minimum length), so an empty one simply does not match.
      if (password === '') return ok(false);
      try {
        return ok(await argon2Verify({ password, hash: stored }));
      } catch {
        return err({ reason: 'malformed', family: 'argon2' });
      }
    case 'pbkdf2':
      return verifyPbkdf2(password, hash.salt, hash.iterations, hash.digest, hash.expected);
    case 'scrypt':
      return verifyScrypt(password, hash.salt, hash.expected, hash.N, hash.r, hash.p);
    case 'salted-digest': {
      const input = hash.format.input.replace(/\{salt\}|\{password\}/g, (token) =>
        token === '{salt}' ? hash.salt : password,
      );
      return ok(sameBytes(hash.expected, createHash(hash.format.algorithm).update(input, 'utf8').digest()));
    }
  }
};

/** For logs and metrics: which family a stored value belongs to, never the value. */
export const hashFamily = (stored: string): HashFamily | 'unknown' => {
  if (stored.startsWith('$2')) return 'bcrypt';
  if (stored.startsWith('$argon2')) return 'argon2';
  if (/^(pbkdf2[_:]|\$pbkdf2)/.test(stored)) return 'pbkdf2';
  if (/^(scrypt:|\$scrypt\$)/.test(stored)) return 'scrypt';
  return /^(md5|sha1|sha256|sha512)[:$]/.test(stored) ? 'salted-digest' : 'unknown';
};
