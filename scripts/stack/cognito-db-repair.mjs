// Makes cognito-local's state folder loadable again before it starts.
//
//   node scripts/stack/cognito-db-repair.mjs DIR     (DIR: the .cognito/db folder)
//
// cognito-local (StormDB) writes a pool's JSON file in place, without a temporary file and a
// rename, and lets writes overlap. A file can end up empty (stopped between create and write)
// or as a complete document followed by the tail of an older, longer one; on either it
// refuses to start. Empty files hold nothing and are removed. A file with trailing bytes is cut
// back to its leading complete document (the state of one of its writes; the original is kept
// as DIR/corrupt/<name>). A file that cannot be read at all is moved to DIR/corrupt/, so the
// stack starts and that pool is missing rather than every pool. Prints one line per repair.
import {
  copyFileSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: cognito-db-repair.mjs DIR');
  process.exit(2);
}

let names;
try {
  names = readdirSync(dir).filter((n) => n.endsWith('.json'));
} catch {
  process.exit(0); // no state yet
}

const aside = (name) => {
  mkdirSync(join(dir, 'corrupt'), { recursive: true });
  return join(dir, 'corrupt', name);
};

/** The leading JSON document of `text`, if `text` is one followed by other bytes. */
const leadingDocument = (text, error) => {
  const at = /at position (\d+)/.exec(error.message);
  if (!at) return undefined;
  const prefix = text.slice(0, Number(at[1]));
  try {
    JSON.parse(prefix);
    return prefix;
  } catch {
    return undefined;
  }
};

for (const name of names) {
  const file = join(dir, name);
  if (statSync(file).size === 0) {
    rmSync(file);
    console.log(`removed empty ${name}`);
    continue;
  }
  const text = readFileSync(file, 'utf8');
  try {
    JSON.parse(text);
  } catch (error) {
    const prefix = leadingDocument(text, error);
    if (prefix !== undefined) {
      copyFileSync(file, aside(name));
      writeFileSync(file, `${prefix}\n`);
      console.log(
        `cut ${name} back to its first complete document (${prefix.length} of ${text.length} bytes; original in corrupt/)`,
      );
    } else {
      renameSync(file, aside(name));
      console.log(`moved unreadable ${name} to corrupt/`);
    }
  }
}
