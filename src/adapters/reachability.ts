// Before a command starts work: can the dependencies it needs be reached at all? A plain TCP
// connect per address, retried until `connectTimeoutMs`. The clients themselves (kafkajs, the
// AWS SDK) retry for minutes and log every attempt, so a wrong broker address took over two
// minutes and ~44 log lines to fail; this fails within the deadline with one sentence.
// TCP only: it proves the address answers, not that TLS or credentials are right (those
// fail fast in the clients anyway).
import { connect } from 'node:net';
import type { Config } from '../config/schema.js';
import { DependencyUnreachableError } from '../errors.js';

export interface Dependency {
  /** For people: "Kafka broker", "schema registry", "Cognito endpoint". */
  name: string;
  /** The setting that holds the address. */
  configPath: string;
  /** Reachable when any one of these accepts a connection (Kafka needs one bootstrap broker). */
  addresses: { host: string; port: number }[];
}

export interface Needs {
  kafka?: boolean;
  registry?: boolean;
  cognito?: boolean;
}

/** The dependencies a command needs, from the config: only those it would really talk to. */
export function dependenciesOf(config: Config, needs: Needs): Dependency[] {
  const out: Dependency[] = [];
  if (needs.kafka) {
    out.push({
      name: config.kafka.brokers.length === 1 ? 'Kafka broker' : 'Kafka brokers',
      configPath: 'kafka.brokers',
      addresses: config.kafka.brokers.map((b) => {
        const at = b.lastIndexOf(':');
        return { host: b.slice(0, at), port: Number(b.slice(at + 1)) };
      }),
    });
  }
  // JSON topics never touch the registry, whatever the config names.
  if (needs.registry && config.schemaRegistry && config.format !== 'json') {
    out.push({
      name: 'schema registry',
      configPath: 'schemaRegistry.url',
      addresses: [urlAddress(config.schemaRegistry.url)],
    });
  }
  if (needs.cognito) {
    const endpoint = config.cognito.endpoint ?? `https://cognito-idp.${config.cognito.region}.amazonaws.com`;
    out.push({
      name: 'Cognito endpoint',
      configPath: config.cognito.endpoint ? 'cognito.endpoint' : 'cognito.region',
      addresses: [urlAddress(endpoint)],
    });
  }
  return out;
}

function urlAddress(url: string): { host: string; port: number } {
  const u = new URL(url);
  const port = u.port !== '' ? Number(u.port) : u.protocol === 'https:' ? 443 : 80;
  // URL keeps the brackets of an IPv6 literal; net.connect wants the bare address.
  return { host: u.hostname.replace(/^\[(.*)\]$/, '$1'), port };
}

/** Waits until every dependency answers; the first that does not within `timeoutMs` throws. */
export async function waitReachable(dependencies: Dependency[], timeoutMs: number): Promise<void> {
  await Promise.all(dependencies.map((d) => waitOne(d, timeoutMs)));
}

async function waitOne(dep: Dependency, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastReason = 'no answer';
  for (let attempt = 0; ; attempt++) {
    const remaining = deadline - Date.now();
    if (remaining <= 0) break;
    const results = await Promise.all(dep.addresses.map((a) => tryConnect(a.host, a.port, Math.min(remaining, 5000))));
    if (results.some((r) => r === null)) return;
    lastReason = results[0]!;
    // A dependency that is restarting comes back within seconds: retry, but not in a tight loop.
    const pause = Math.min(200 * 2 ** attempt, 1000, Math.max(0, deadline - Date.now()));
    await new Promise((r) => setTimeout(r, pause));
  }
  const address = dep.addresses.map((a) => `${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`).join(', ');
  throw new DependencyUnreachableError(dep.name, address, lastReason, dep.configPath, timeoutMs);
}

/** null when the address accepted a connection, else why not, in words. */
function tryConnect(host: string, port: number, timeoutMs: number): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const finish = (reason: string | null): void => {
      socket.removeAllListeners();
      socket.on('error', () => undefined);
      socket.destroy();
      resolve(reason);
    };
    socket.setTimeout(timeoutMs, () => finish(`no answer in ${Math.round(timeoutMs / 100) / 10}s`));
    socket.once('connect', () => finish(null));
    socket.once('error', (error: NodeJS.ErrnoException) =>
      finish(REASONS[error.code ?? ''] ?? error.code ?? error.message),
    );
  });
}

const REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connection timed out',
  ECONNRESET: 'connection reset',
};
