// Known vectors made by the libraries themselves (bcryptjs, @node-rs/argon2, node:crypto) in
// each legacy application's format; each must verify with the right password only.
import { describe, expect, test } from '@jest/globals';
import { createHash, pbkdf2Sync, scryptSync } from 'node:crypto';
import bcrypt from 'bcryptjs';
import { hash as argon2Hash } from '@node-rs/argon2';
import { hashFamily, verifyPassword, type SaltedDigestFormat } from '../../src/lambda/password-hash.js';

const PASSWORD = 'correct horse battery staple ✓';
const ab64 = (b: Buffer): string => b.toString('base64').replace(/=+$/, '').replace(/\+/g, '.');

const vectors = async (): Promise<[string, string][]> => {
  const bc = bcrypt.hashSync(PASSWORD, 4);
  const django = pbkdf2Sync(PASSWORD, 'seasalt', 1000, 32, 'sha256').toString('base64');
  const werkzeugPbkdf2 = pbkdf2Sync(PASSWORD, 'pepper', 1000, 32, 'sha256').toString('hex');
  const werkzeugScrypt = scryptSync(PASSWORD, 'NaCl', 64, { N: 1024, r: 8, p: 1 }).toString('hex');
  const passlibSalt = Buffer.from('0123456789abcdef');
  const passlibPbkdf2 = pbkdf2Sync(PASSWORD, passlibSalt, 1000, 32, 'sha256');
  const passlibScrypt = scryptSync(PASSWORD, passlibSalt, 32, { N: 1 << 10, r: 8, p: 1 });
  return [
    ['bcrypt $2b$', bc],
    ['bcrypt $2a$', bc.replace(/^\$2b\$/, '$2a$')],
    ['bcrypt $2y$ (PHP)', bc.replace(/^\$2b\$/, '$2y$')],
    ['argon2id', await argon2Hash(PASSWORD, { memoryCost: 1024, timeCost: 2, parallelism: 1 })],
    ['Django pbkdf2_sha256', `pbkdf2_sha256$1000$seasalt$${django}`],
    ['Werkzeug pbkdf2', `pbkdf2:sha256:1000$pepper$${werkzeugPbkdf2}`],
    ['Werkzeug scrypt', `scrypt:1024:8:1$NaCl$${werkzeugScrypt}`],
    ['passlib pbkdf2-sha256', `$pbkdf2-sha256$1000$${ab64(passlibSalt)}$${ab64(passlibPbkdf2)}`],
    [
      'passlib scrypt',
      `$scrypt$ln=10,r=8,p=1$${passlibSalt.toString('base64').replace(/=+$/, '')}$${passlibScrypt.toString('base64').replace(/=+$/, '')}`,
    ],
    ['sha256:salt:hex', `sha256:s4lt:${createHash('sha256').update(`s4lt${PASSWORD}`).digest('hex')}`],
    ['sha1:salt:hex', `sha1:s4lt:${createHash('sha1').update(`s4lt${PASSWORD}`).digest('hex')}`],
    ['md5:salt:hex', `md5:s4lt:${createHash('md5').update(`s4lt${PASSWORD}`).digest('hex')}`],
  ];
};

describe('verifyPassword', () => {
  test('every supported format accepts the right password and refuses a wrong one', async () => {
    for (const [name, stored] of await vectors()) {
      expect([name, await verifyPassword(PASSWORD, stored)]).toEqual([name, { ok: true, value: true }]);
      expect([name, await verifyPassword(`${PASSWORD}x`, stored)]).toEqual([name, { ok: true, value: false }]);
      expect([name, await verifyPassword('', stored)]).toEqual([name, { ok: true, value: false }]);
    }
  });

  test('a configured salted-digest template (password first, base64) is honoured', async () => {
    const format: SaltedDigestFormat = {
      pattern: '{hash}${salt}',
      algorithm: 'sha512',
      input: '{password}{salt}',
      encoding: 'base64',
    };
    const stored = `${createHash('sha512').update(`${PASSWORD}xyz`).digest('base64')}$xyz`;
    expect(await verifyPassword(PASSWORD, stored, { digestFormats: [format] })).toEqual({ ok: true, value: true });
    expect(await verifyPassword('nope', stored, { digestFormats: [format] })).toEqual({ ok: true, value: false });
    // Without the template the same value is not a known format.
    expect(await verifyPassword(PASSWORD, stored)).toEqual({ ok: false, error: { reason: 'unsupported-format' } });
  });

  test('unknown and malformed values are errors, never a match', async () => {
    expect(await verifyPassword('x', 'plaintext-password')).toEqual({
      ok: false,
      error: { reason: 'unsupported-format' },
    });
    expect(await verifyPassword('x', '$argon2id$garbage')).toEqual({
      ok: false,
      error: { reason: 'malformed', family: 'argon2' },
    });
    expect(await verifyPassword('x', 'scrypt:1000:8:1$s$00ff')).toEqual({
      ok: false,
      error: { reason: 'malformed', family: 'scrypt' },
    });
    // A truncated digest cannot be satisfied by a prefix.
    const full = createHash('sha256').update(`s${PASSWORD}`).digest('hex');
    expect(await verifyPassword(PASSWORD, `sha256:s:${full.slice(0, 32)}`)).toEqual({ ok: true, value: false });
  });

  test('hashFamily names the family for logs without the value', () => {
    expect(hashFamily('$2b$10$abc')).toBe('bcrypt');
    expect(hashFamily('$argon2id$v=19$...')).toBe('argon2');
    expect(hashFamily('pbkdf2_sha256$1$a$b')).toBe('pbkdf2');
    expect(hashFamily('scrypt:1:1:1$a$b')).toBe('scrypt');
    expect(hashFamily('md5:a:b')).toBe('salted-digest');
    expect(hashFamily('hunter2')).toBe('unknown');
  });
});
