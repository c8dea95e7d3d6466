#!/usr/bin/env node
// Thin launcher: the CLI is compiled TypeScript (npm run build).
import { main } from '../dist/src/cli/main.js';

const code = await main(process.argv);

/**
 * Resolves once everything written to `stream` so far has left the process. A write to a pipe
 * that is full (64 KiB on Linux) is queued inside Node, and process.exit() drops the queue:
 * `dlq list --json | jq` got the first 65,536 bytes. An empty write's callback runs after
 * every earlier chunk has been handed to the OS; an error (reader gone: EPIPE) ends the wait too.
 */
const flushed = (stream) =>
  new Promise((resolve) => {
    if (stream.destroyed || !stream.writable) return resolve();
    stream.once('error', resolve);
    stream.write('', () => resolve());
  });

await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
// Exit explicitly once the command has cleaned up and its output is out: a socket kafkajs
// re-opened during shutdown (e.g. after a broker restart) must not keep a stopped sync alive
// until the broker drops it.
process.exit(code);
