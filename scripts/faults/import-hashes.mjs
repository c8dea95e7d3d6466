// Password hashes in the fault proxy's import-jobs mode (import-jobs.mjs).
//
// CreateUserImportJob.PasswordHashingAlgorithm is one of BCRYPT | SCRYPT | ARGON2ID |
// PBKDF2_SHA256 (the AWS SDK's model, CreateUserImportJobRequest, and the API reference:
// https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_CreateUserImportJob.html).
// Which CSV column carries the hash and in which encoding is NOT documented anywhere we found.
// ASSUMPTION, mirrored from the sync's writer (src/adapters/cognito/import-csv-format.ts): one
// column, `cognito:password_hash` by default (the mode's `hashColumn` option), holding the hash
// in its usual text form:
//   BCRYPT         modular crypt     $2a$ / $2b$ / $2y$ cost $ 53 characters
//   ARGON2ID       PHC string        $argon2id$v=19$m=..,t=..,p=..$salt$hash
//   PBKDF2_SHA256  PHC string        $pbkdf2-sha256$i=..,l=..$salt$hash (unpadded base64; the sync
//                                    writes this form), or as legacy apps store it: Django
//                                    pbkdf2_sha256$iter$salt$b64, Werkzeug pbkdf2:sha256:iter$salt$hex,
//                                    passlib $pbkdf2-sha256$iter$ab64salt$ab64hash
//   SCRYPT         PHC string        $scrypt$ln=..,r=..,p=..$salt$hash (base64 or passlib's ab64),
//                                    or Werkzeug's scrypt:N:r:p$salt$hex
// Being lenient about the form is deliberate: nothing says which one Cognito takes, so this mode
// checks that a hash is one of the algorithm's, not which spelling of it.
// The same families src/lambda/password-hash.ts verifies for the User Migration Lambda (this
// file is plain .mjs for the proxy, so it verifies on its own with the same libraries).
import { pbkdf2, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import bcrypt from 'bcryptjs';
import { argon2Verify } from 'hash-wasm';

const pbkdf2Async = promisify(pbkdf2);
const scryptAsync = promisify(scrypt);

export const ALGORITHMS = ['BCRYPT', 'SCRYPT', 'ARGON2ID', 'PBKDF2_SHA256'];

const ab64 = (text) => Buffer.from(text.replace(/\./g, '+'), 'base64');
const same = (a, b) => a.length === b.length && a.length > 0 && timingSafeEqual(a, b);

/** Each algorithm's formats: a pattern and how to check a password against a match. */
const FORMATS = {
  BCRYPT: [
    {
      re: /^\$2[aby]\$(0[4-9]|[12]\d|3[01])\$[./A-Za-z0-9]{53}$/,
      verify: (pw, m) => bcrypt.compare(pw, m[0].replace(/^\$2y\$/, '$2b$')),
    },
  ],
  ARGON2ID: [
    {
      re: /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/,
      verify: async (pw, m) => pw !== '' && (await argon2Verify({ password: pw, hash: m[0] })),
    },
  ],
  PBKDF2_SHA256: [
    {
      re: /^\$pbkdf2-sha256\$i=(\d+),l=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/,
      verify: async (pw, m) => {
        const want = Buffer.from(m[4], 'base64');
        const salt = Buffer.from(m[3], 'base64');
        return same(want, await pbkdf2Async(pw, salt, Number(m[1]), want.length, 'sha256'));
      },
    },
    {
      re: /^pbkdf2_sha256\$(\d+)\$([^$]+)\$([A-Za-z0-9+/]+=*)$/,
      verify: async (pw, m) => {
        const want = Buffer.from(m[3], 'base64');
        return same(want, await pbkdf2Async(pw, m[2], Number(m[1]), want.length, 'sha256'));
      },
    },
    {
      re: /^pbkdf2:sha256(?::(\d+))?\$([^$]+)\$([0-9a-f]+)$/,
      verify: async (pw, m) => {
        const want = Buffer.from(m[3], 'hex');
        return same(want, await pbkdf2Async(pw, m[2], Number(m[1] ?? 600_000), want.length, 'sha256'));
      },
    },
    {
      re: /^\$pbkdf2-sha256\$(\d+)\$([./A-Za-z0-9]+)\$([./A-Za-z0-9]+)$/,
      verify: async (pw, m) => {
        const want = ab64(m[3]);
        return same(want, await pbkdf2Async(pw, ab64(m[2]), Number(m[1]), want.length, 'sha256'));
      },
    },
  ],
  SCRYPT: [
    {
      re: /^scrypt:(\d+):(\d+):(\d+)\$([^$]+)\$([0-9a-f]+)$/,
      verify: (pw, m) => verifyScrypt(pw, m[4], Buffer.from(m[5], 'hex'), Number(m[1]), Number(m[2]), Number(m[3])),
    },
    {
      re: /^\$scrypt\$ln=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9+/.]+)\$([A-Za-z0-9+/.]+)$/,
      verify: (pw, m) => verifyScrypt(pw, ab64(m[4]), ab64(m[5]), 2 ** Number(m[1]), Number(m[2]), Number(m[3])),
    },
  ],
};

const verifyScrypt = async (pw, salt, want, N, r, p) => {
  const memory = 128 * N * r;
  return same(want, await scryptAsync(pw, salt, want.length, { N, r, p, maxmem: memory * 2 + 1024 * 1024 }));
};

/** scrypt parameters the proxy will not run (a power of two N, memory within 512 MiB). */
const scryptSane = (m, passlib) => {
  const N = passlib ? 2 ** Number(m[1]) : Number(m[1]);
  const r = Number(m[2]);
  const p = Number(m[3]);
  return Number.isSafeInteger(N) && N >= 2 && (N & (N - 1)) === 0 && r > 0 && p > 0 && 128 * N * r <= 512 * 2 ** 20;
};

/**
 * Whether `hash` is a hash of `algorithm` in one of its accepted text forms: the format, for
 * `verify`, or undefined.
 */
export function parseHash(algorithm, hash) {
  for (const format of FORMATS[algorithm] ?? []) {
    const m = format.re.exec(hash);
    if (!m) continue;
    if (algorithm === 'SCRYPT' && !scryptSane(m, hash.startsWith('$scrypt$'))) return undefined;
    if (algorithm === 'ARGON2ID' && Number(m[1]) > 512 * 1024) return undefined; // m is KiB
    if (algorithm === 'PBKDF2_SHA256' && !(Number(m[1] ?? 600_000) >= 1)) return undefined;
    // The PHC form names the key length (l=): it must be the hash's.
    if (algorithm === 'PBKDF2_SHA256' && hash.includes('$i=') && Buffer.from(m[4], 'base64').length !== Number(m[2]))
      return undefined;
    return { algorithm, hash };
  }
  return undefined;
}

/** True when `password` matches the parsed hash. */
export async function verifyHash(parsed, password) {
  for (const format of FORMATS[parsed.algorithm] ?? []) {
    const m = format.re.exec(parsed.hash);
    if (m) return format.verify(password, m);
  }
  return false;
}
