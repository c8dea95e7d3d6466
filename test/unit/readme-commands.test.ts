// The commands the README and docs/ print are what people paste (#18): each `./cognito-sync …`
// must name a command the CLI has, with options that command knows. A renamed flag or a
// command that was never registered fails here instead of in someone's terminal.
import { describe, expect, test } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { buildProgram } from '../../src/cli/main.js';

const ROOT = resolve(import.meta.dirname, '../..');
const FILES = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

interface Invocation {
  file: string;
  line: number;
  text: string;
}

/** Every `./cognito-sync …` in the docs, up to the end of its code span, comment or line. */
function invocations(): Invocation[] {
  const out: Invocation[] = [];
  for (const file of FILES) {
    const lines = readFileSync(join(ROOT, file), 'utf8').split('\n');
    lines.forEach((line, i) => {
      for (const m of line.matchAll(/\.\/cognito-sync((?: [^`\n]*)?)/g)) {
        const text = m[1]!.split(/\s#|`/)[0]!.trim();
        out.push({ file, line: i + 1, text });
      }
    });
  }
  return out;
}

/** The command a token list names, and the tokens left after its name. */
function resolveCommand(program: Command, tokens: string[]): { command: Command; rest: string[] } {
  let command = program;
  let rest = tokens;
  for (;;) {
    const sub = command.commands.find((c) => c.name() === rest[0]);
    if (!sub) return { command, rest };
    command = sub;
    rest = rest.slice(1);
  }
}

const knows = (command: Command, flag: string): boolean =>
  flag === '--help' || flag === '-h' || command.options.some((o) => o.long === flag || o.short === flag);

describe('commands printed in README.md and docs/', () => {
  const found = invocations();

  test('there are printed commands to check', () => {
    expect(found.length).toBeGreaterThan(30);
  });

  test('commands are printed the one way that runs from a clone (./cognito-sync), except an installed deployment', () => {
    const names = buildProgram().commands.map((c) => c.name());
    const bare = new RegExp(`(?<![\\w./-])cognito-sync (?=(?:${names.join('|')})\\b)`);
    const problems: string[] = [];
    for (const file of FILES)
      readFileSync(join(ROOT, file), 'utf8')
        .split('\n')
        .forEach((line, i) => {
          if (bare.test(line) && !line.includes('/etc/cognito-sync/'))
            problems.push(`${file}:${i + 1}: ${line.trim()}`);
        });
    expect(problems).toEqual([]);
  });

  test('each names a command of the CLI, with options that command knows', () => {
    const program = buildProgram();
    const problems: string[] = [];
    for (const { file, line, text } of found) {
      const tokens = text.split(/\s+/).filter(Boolean);
      // "./cognito-sync …" in prose stands for any command.
      if (tokens.length === 0 || tokens[0] === '…' || tokens[0] === '...') continue;
      const { command, rest } = resolveCommand(program, tokens);
      if (command === program && !['--help', '--version'].includes(tokens[0]!)) {
        problems.push(`${file}:${line}: no command "${tokens[0]}" in "./cognito-sync ${text}"`);
        continue;
      }
      for (const token of rest) {
        // Synopses write [--json], (--a | --b), --opt=value: the flag is the part that matters.
        const flag = /^[[(]*(--?[a-z][\w-]*)/i.exec(token)?.[1];
        if (flag && !knows(command, flag))
          problems.push(`${file}:${line}: "${command.name()}" has no option ${flag} ("./cognito-sync ${text}")`);
      }
    }
    expect(problems).toEqual([]);
  });
});
