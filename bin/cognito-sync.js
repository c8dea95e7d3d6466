#!/usr/bin/env node
// Thin launcher: the CLI is compiled TypeScript (npm run build).
import { main } from '../dist/src/cli/main.js';

// Exit explicitly once the command has cleaned up: a socket kafkajs re-opened during shutdown
// (e.g. after a broker restart) must not keep a stopped sync alive until the broker drops it.
process.exit(await main(process.argv));
