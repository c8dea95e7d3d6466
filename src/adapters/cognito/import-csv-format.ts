// Every assumption about how a password hash travels in a Cognito user import CSV, in one place.
//
// What is documented: CreateUserImportJob takes PasswordHashingAlgorithm, one of BCRYPT | SCRYPT |
// ARGON2ID | PBKDF2_SHA256, "the password hashing algorithm used to generate the hashes in the CSV
// file for this import job" (API reference and the SDK model of CreateUserImportJobRequest /
// UserImportJobType, @aws-sdk/client-cognito-identity-provider 3.1169). One algorithm per job.
// What is NOT documented anywhere we could find (API reference, SDK models, the developer guide's
// "Creating the user import CSV file", GetCSVHeader's sample answer, which lists no such column):
//   1. the column's name: assumed `cognito:password_hash`, beside the documented `cognito:username`
//      and `cognito:mfa_enabled`, added to GetCSVHeader's columns when the pool's header does not
//      list it already;
//   2. the value: assumed the hash's standard text encoding, the one its own libraries print and
//      verify: bcrypt's modular crypt string (`$2b$12$...`), and the PHC string format for the
//      others (`$argon2id$v=19$m=...,t=...,p=...$salt$hash`, `$scrypt$ln=..,r=..,p=..$salt$hash`,
//      `$pbkdf2-sha256$i=..,l=..$salt$hash`), salt and hash in unpadded standard base64;
//   3. which variants each algorithm covers: assumed bcrypt $2a$/$2b$ ($2y$, PHP's name for the
//      same algorithm, is written as $2b$), argon2id only (not argon2i/argon2d), PBKDF2 over
//      HMAC-SHA256 only (not SHA-1, not SHA-512).
// A hash outside these is left to the User Migration Lambda, which verifies every legacy format
// itself (lambda/password-hash.ts). The stack's fault proxy (its importJobs mode) follows the same
// defaults, so the e2e tests check this module against itself, not against Cognito: when AWS
// documents the column, this file is the one to change. See the README's import section.
import type { PasswordHashingAlgorithmType } from '@aws-sdk/client-cognito-identity-provider';
import type { ParsedHash } from '../../lambda/password-hash.js';

export type ImportAlgorithm = PasswordHashingAlgorithmType;

/** The assumed CSV column of the hash (undocumented, see above). */
export const PASSWORD_HASH_COLUMN = 'cognito:password_hash';

/** Every algorithm CreateUserImportJob names, in the order jobs are run and reported. */
export const IMPORT_ALGORITHMS: readonly ImportAlgorithm[] = ['BCRYPT', 'ARGON2ID', 'PBKDF2_SHA256', 'SCRYPT'];

export type ImportableHash =
  | { ok: true; algorithm: ImportAlgorithm; value: string }
  /** Cognito takes no such hash: the user is left to the User Migration Lambda. */
  | { ok: false; reason: string };

/** Unpadded standard base64, as the PHC string format writes salts and hashes. */
const b64 = (bytes: Buffer): string => bytes.toString('base64').replace(/=+$/, '');

/** The algorithm and the CSV value for a legacy hash, or why an import job cannot take it. */
export const importableHash = (hash: ParsedHash): ImportableHash => {
  switch (hash.family) {
    case 'bcrypt':
      return { ok: true, algorithm: 'BCRYPT', value: hash.stored.replace(/^\$2y\$/, '$2b$') };
    case 'argon2':
      return hash.variant === 'id'
        ? { ok: true, algorithm: 'ARGON2ID', value: hash.stored }
        : { ok: false, reason: `argon2${hash.variant} (import jobs take argon2id only)` };
    case 'pbkdf2':
      return hash.digest === 'sha256'
        ? {
            ok: true,
            algorithm: 'PBKDF2_SHA256',
            value: `$pbkdf2-sha256$i=${hash.iterations},l=${hash.expected.length}$${b64(hash.salt)}$${b64(hash.expected)}`,
          }
        : { ok: false, reason: `pbkdf2 over ${hash.digest} (import jobs take PBKDF2_SHA256 only)` };
    case 'scrypt':
      return {
        ok: true,
        algorithm: 'SCRYPT',
        value: `$scrypt$ln=${Math.log2(hash.N)},r=${hash.r},p=${hash.p}$${b64(hash.salt)}$${b64(hash.expected)}`,
      };
    case 'salted-digest':
      return { ok: false, reason: `salted ${hash.format.algorithm} digest (no import job algorithm)` };
  }
};

/**
 * The header of a job's CSV: the pool's own (GetCSVHeader) plus the hash column for a job with
 * an algorithm, unless the pool's header lists it already.
 */
export const jobHeader = (poolHeader: readonly string[], algorithm: ImportAlgorithm | undefined): string[] =>
  algorithm === undefined || poolHeader.includes(PASSWORD_HASH_COLUMN)
    ? [...poolHeader]
    : [...poolHeader, PASSWORD_HASH_COLUMN];
