// Readiness probes used by up.sh / status.sh (one attempt, exit 0 = ready).
//   node scripts/stack/probe.mjs kafka 127.0.0.1:19092     broker answers ApiVersions + Metadata
//   node scripts/stack/probe.mjs cognito http://127.0.0.1:9229   ListUserPools answers
import { Kafka, logLevel } from 'kafkajs';

const [what, target] = process.argv.slice(2);

async function kafka(brokers) {
  const client = new Kafka({
    clientId: 'stack-probe',
    brokers: brokers.split(','),
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1500,
    requestTimeout: 3000,
    retry: { retries: 0 },
  });
  const admin = client.admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    if (!cluster.brokers.length || cluster.controller == null) throw new Error('no brokers/controller yet');
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

async function cognito(endpoint) {
  const res = await fetch(endpoint.replace(/\/$/, '') + '/', {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': 'AWSCognitoIdentityProviderService.ListUserPools',
    },
    body: JSON.stringify({ MaxResults: 1 }),
    signal: AbortSignal.timeout(3000),
  });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  await res.json();
}

const probes = { kafka, cognito };
if (!probes[what] || !target) {
  console.error('usage: probe.mjs kafka|cognito TARGET');
  process.exit(2);
}
probes[what](target).then(
  () => process.exit(0),
  (err) => {
    if (process.env.PROBE_VERBOSE) console.error(String(err?.message ?? err));
    process.exit(1);
  },
);
