// Example values in migration reports: enough to recognise the kind of problem (which domain,
// how long, which shape), never the person. `a***@example.com`, `+49***89`, `J*** (2049 chars)`.
import { redactText } from '../ops/redact.js';

const EMAILISH = /^([^@\s]*)@(.+)$/u;
const PHONEISH = /^\+?[\d\s().-]{6,}$/;

export const redactExample = (value: unknown): string => {
  if (value === null || value === undefined) return '(null)';
  const text = value instanceof Date ? value.toISOString() : String(value);
  if (text === '') return '(empty)';
  const chars = [...text];
  const email = EMAILISH.exec(text);
  // The domain stays: "all broken addresses are @legacy.local" is the useful finding.
  if (email) return `${chars[0] === '@' ? '' : `${chars[0]}***`}@${redactText(email[2] as string)}`;
  if (PHONEISH.test(text)) {
    const digits = text.replace(/\D/g, '');
    return `${text.startsWith('+') ? '+' : ''}${digits.slice(0, 2)}***${digits.slice(-2)} (${digits.length} digits)`;
  }
  const shape = /\s/u.test(text) ? ', has whitespace' : '';
  return `${chars[0]}*** (${chars.length} chars${shape})`;
};

/** A problem message without the values some messages quote, so equal problems group. */
export const problemClass = (message: string, field: string): string =>
  redactText(message)
    .replace(new RegExp(`^attribute ${field.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} `), '')
    .replace(/"(?:[^"\\]|\\.)*"/g, '"…"')
    .replace(/\([^)]*digits after normalising\)/, '')
    .trim();
