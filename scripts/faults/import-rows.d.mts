// Types of import-rows.mjs (the rules of a user import file) for the TypeScript tests.
import type { ParsedHash } from './import-hashes.mjs';

export const USERNAME: 'cognito:username';
export const MFA: 'cognito:mfa_enabled';
export const DEFAULT_HASH_COLUMN: string;
export const LIMITS: { rowCharacters: number; fileBytes: number; rows: number };

export interface PoolRules {
  name: string;
  schema: Map<
    string,
    {
      Name?: string;
      AttributeDataType?: string;
      Required?: boolean;
      StringAttributeConstraints?: { MinLength?: string; MaxLength?: string };
    }
  >;
  customs: string[];
  required: string[];
  autoVerified: string[];
  mfa: string;
  caseSensitive: boolean;
}
/** What DescribeUserPool answers (the parts the rules read). */
export function poolRulesOf(pool: {
  Name?: string;
  SchemaAttributes?: { Name?: string; AttributeDataType?: string; Required?: boolean }[];
  AutoVerifiedAttributes?: string[];
  MfaConfiguration?: string;
  UsernameConfiguration?: { CaseSensitive?: boolean };
}): PoolRules;
export function csvHeaderOf(rules: PoolRules): string[];
export function headerProblem(header: string[], expected: string[], hashColumn?: string): string | undefined;
export type Judged =
  | { reason: string }
  | {
      reason?: undefined;
      username: string;
      attributes: { Name: string; Value: string }[];
      hash?: ParsedHash;
      mfa: boolean;
    };
export function judgeRow(
  record: { fields: string[]; line: number; length: number },
  columns: string[],
  rules: PoolRules,
  options: {
    algorithm?: string;
    hashColumn: string;
    limits?: { rowCharacters: number; fileBytes: number; rows: number };
  },
): Judged;
