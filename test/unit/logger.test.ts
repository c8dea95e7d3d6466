import { describe, expect, test } from '@jest/globals';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/ops/logger.js';

function capture(hashUsernames: boolean): {
  lines: () => Record<string, unknown>[];
  logger: ReturnType<typeof createLogger>;
} {
  let text = '';
  const destination = new Writable({
    write(chunk, _enc, done) {
      text += chunk.toString();
      done();
    },
  });
  return {
    logger: createLogger({ hashUsernames, destination }),
    lines: () =>
      text
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

describe('logs carry no personal data', () => {
  test('emails, phones, names and whole rows are redacted wherever they appear', () => {
    const { logger, lines } = capture(false);
    logger.info(
      { email: 'a@b.c', user: { phone_number: '+49151', given_name: 'Änna' }, after: { id: 1, email: 'a@b.c' } },
      'x',
    );
    const text = JSON.stringify(lines());
    expect(text).not.toContain('a@b.c');
    expect(text).not.toContain('+49151');
    expect(text).not.toContain('Änna');
  });

  test('usernames stay readable by default and become a stable hash with hashUsernames', () => {
    const plain = capture(false);
    plain.logger.warn({ error: { context: { username: 'jane@example.com' } } }, 'x');
    expect(JSON.stringify(plain.lines())).toContain('jane@example.com');

    const hashed = capture(true);
    hashed.logger.warn({ error: { context: { username: 'jane@example.com' } } }, 'x');
    hashed.logger.warn({ username: 'jane@example.com' }, 'y');
    const [first, second] = hashed.lines();
    expect(JSON.stringify(first)).not.toContain('jane@example.com');
    const h = (first!.error as { context: { username: string } }).context.username;
    expect(h).toMatch(/^h:[0-9a-f]{12}$/);
    expect(second!.username).toBe(h);
  });
});
