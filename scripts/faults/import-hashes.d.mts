// Types of import-hashes.mjs (password hashes in the import-jobs mode) for the TypeScript tests.
export type Algorithm = 'BCRYPT' | 'SCRYPT' | 'ARGON2ID' | 'PBKDF2_SHA256';
export interface ParsedHash {
  algorithm: Algorithm;
  hash: string;
}
export const ALGORITHMS: Algorithm[];
export function parseHash(algorithm: string, hash: string): ParsedHash | undefined;
export function verifyHash(parsed: ParsedHash, password: string): Promise<boolean>;
