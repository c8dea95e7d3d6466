// Prints the fault suite's figures (one line per scenario) from faults-summary.json.
//   node scripts/faults/print-summary.mjs [.stack/test-reports/faults-summary.json] [--markdown]
import { existsSync, readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const markdown = args.includes('--markdown');
const file =
  args.find((a) => !a.startsWith('--')) ?? `${process.env.STACK_DIR ?? '.stack'}/test-reports/faults-summary.json`;
if (!existsSync(file)) {
  console.log(`(no fault summary at ${file})`);
  process.exit(0);
}
const doc = JSON.parse(readFileSync(file, 'utf8'));
const s = (ms) => (ms === null || ms === undefined ? '-' : `${(ms / 1000).toFixed(1)}s`);
if (markdown) {
  console.log(
    '| scenario | written to PG | on topic | consumed | Cognito writes | DLQ | drift | max lag | recovery (max) | faults | duration |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|---|');
  for (const f of doc.scenarios) {
    console.log(
      `| ${f.scenario} | ${f.written} | ${f.topic} | ${f.consumed} | ${f.cognitoWrites} | ${f.dlq} | ${f.drift} | ${f.maxLag} | ${s(f.recoveryMs)} | ${f.faults} | ${s(f.durationMs)} |`,
    );
  }
} else {
  console.log(`fault suite (${doc.mode}, ${doc.updatedAt}):`);
  for (const f of doc.scenarios) {
    console.log(
      `  ${f.scenario.padEnd(18)} written=${f.written} topic=${f.topic} consumed=${f.consumed} cognitoWrites=${f.cognitoWrites} ` +
        `dlq=${f.dlq} drift=${f.drift} maxLag=${f.maxLag} recovery=${s(f.recoveryMs)} (${f.faults} faults) duration=${s(f.durationMs)}`,
    );
  }
}
