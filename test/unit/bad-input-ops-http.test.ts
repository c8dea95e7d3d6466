// Bad input at the ops port: whatever arrives on the socket, the server answers or closes,
// never crashes and never hangs; /metrics, /healthz and /readyz answer afterwards. The server
// runs in-process with a fake health source: this is pure HTTP handling.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { networkInterfaces } from 'node:os';
import { Writable } from 'node:stream';
import fc from 'fast-check';
import { compileConfig } from '../../src/config/load-config.js';
import { ConfigError } from '../../src/errors.js';
import { createLogger } from '../../src/ops/logger.js';
import { createMetrics } from '../../src/ops/metrics.js';
import { OPS_LIMITS, startOpsServer, type HealthSource, type OpsServer } from '../../src/ops/ops-server.js';

const health: HealthSource & { healthy: boolean; ready: boolean } = { healthy: true, ready: true, state: 'running' };
let logText = '';
const logger = createLogger({
  level: 'info',
  destination: new Writable({
    write(chunk, _enc, done) {
      logText += String(chunk);
      done();
    },
  }),
});
const metrics = createMetrics();
let ops: OpsServer;
let port: number;

// Short timeouts so the slowloris test runs in seconds; the production values are checked below.
const LIMITS = { headersTimeoutMs: 1_500, requestTimeoutMs: 1_500, keepAliveTimeoutMs: 1_000, maxConnections: 64 };

beforeAll(async () => {
  ops = await startOpsServer({ host: '127.0.0.1', port: 0, metrics, service: health, logger, limits: LIMITS });
  port = Number(new URL(ops.url).port);
});

afterAll(async () => {
  await ops.close();
});

interface RawOutcome {
  response: string;
  /** The server closed the connection (FIN or RST). */
  closed: boolean;
  /** Neither an answer nor a close before the deadline. */
  hung: boolean;
}

/** Writes bytes on a fresh socket and collects whatever comes back until close or the deadline. */
function raw(
  bytes: Buffer | string,
  o: { end?: boolean; timeoutMs?: number; to?: number; host?: string } = {},
): Promise<RawOutcome> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = connect({ port: o.to ?? port, host: o.host ?? '127.0.0.1' });
    let settled = false;
    const finish = (closed: boolean, hung = false): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ response: Buffer.concat(chunks).toString('latin1'), closed, hung });
    };
    const timer = setTimeout(() => finish(false, chunks.length === 0), o.timeoutMs ?? 3_000);
    socket.on('connect', () => {
      socket.write(bytes);
      if (o.end !== false) socket.end();
    });
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', () => finish(true));
    socket.on('close', () => finish(true));
  });
}

const statusOf = (response: string): number | null => {
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(response);
  return m ? Number(m[1]) : null;
};

function get(
  path: string,
  method = 'GET',
): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The three endpoints still answer as they should. */
async function stillServing(): Promise<void> {
  const m = await get('/metrics');
  expect(m.status).toBe(200);
  expect(m.body).toContain('cognito_sync_process_resident_memory_bytes');
  expect((await get('/healthz')).status).toBe(200);
  expect((await get('/readyz')).status).toBe(200);
}

describe('the ops port binds to localhost by default', () => {
  test('a config without ops.host listens on 127.0.0.1 only', async () => {
    const config = compileConfig({
      kafka: { brokers: ['k:9092'], topics: ['t'] },
      cognito: { userPoolId: 'us-east-1_a1', region: 'us-east-1' },
      mapping: 'm.yaml',
    });
    expect(config.ops).toEqual({ host: '127.0.0.1', port: 9464 });
    const server = await startOpsServer({ host: config.ops.host, port: 0, metrics, service: health, logger });
    try {
      const url = new URL(server.url);
      expect(url.hostname).toBe('127.0.0.1');
      // Reachable on loopback, refused on every other address of this machine.
      expect(statusOf((await raw('GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n', { to: Number(url.port) })).response)).toBe(
        200,
      );
      const external = Object.values(networkInterfaces())
        .flat()
        .filter((a) => a !== undefined && a.family === 'IPv4' && !a.internal)
        .map((a) => a!.address);
      for (const address of external) {
        const outcome = await raw('GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n', { to: Number(url.port), host: address });
        expect(statusOf(outcome.response)).toBeNull();
        expect(outcome.closed).toBe(true);
      }
    } finally {
      await server.close();
    }
  });

  test('an empty ops.host (which Node would take as "every interface") is refused, naming the path', () => {
    const base = {
      kafka: { brokers: ['k:9092'], topics: ['t'] },
      cognito: { userPoolId: 'us-east-1_a1', region: 'us-east-1' },
      mapping: 'm.yaml',
    };
    expect(() => compileConfig({ ...base, ops: { host: '' } })).toThrow(ConfigError);
    try {
      compileConfig({ ...base, ops: { host: '' } });
    } catch (error) {
      expect((error as ConfigError).issues[0]!.path).toBe('ops.host');
    }
  });

  test('the production limits are sane', () => {
    expect(OPS_LIMITS.headersTimeoutMs).toBeLessThanOrEqual(OPS_LIMITS.requestTimeoutMs);
    expect(OPS_LIMITS.requestTimeoutMs).toBeLessThanOrEqual(30_000);
    expect(OPS_LIMITS.maxConnections).toBeGreaterThanOrEqual(16);
  });
});

describe('bad requests get an answer or a close, never a crash', () => {
  test('methods other than GET and HEAD get 405; HEAD gets headers only', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE']) {
      expect((await get('/metrics', method)).status).toBe(405);
    }
    const head = await get('/metrics', 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
    await stillServing();
  });

  test('unknown methods, CONNECT and protocol garbage get 400 or a close', async () => {
    const inputs = [
      'FROB /metrics HTTP/1.1\r\nhost: x\r\n\r\n',
      'CONNECT 127.0.0.1:22 HTTP/1.1\r\nhost: x\r\n\r\n',
      'GET /metrics HTTP/9.9\r\nhost: x\r\n\r\n',
      'GET /metrics HTTP/1.1\nhost x\n\n',
      'GET /metrics HTTP/1.1\r\nhost: x\r\ncontent-length: -1\r\n\r\n',
      'GET /metrics HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\ncontent-length: 3\r\n\r\nzzz\r\n',
      'GET /metrics HTTP/1.1\r\nhost: x\r\nx-a: b\x00c\r\n\r\n',
      '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03' + 'A'.repeat(64), // a TLS ClientHello
      '\r\n\r\n\r\n',
      '\x00\xff\xfe\x80'.repeat(100),
    ];
    for (const input of inputs) {
      const outcome = await raw(Buffer.from(input, 'latin1'));
      expect(outcome.hung).toBe(false);
      const status = statusOf(outcome.response);
      if (status !== null) expect([400, 505]).toContain(status);
      else expect(outcome.closed).toBe(true);
    }
    // HTTP/0.9-style request line without a version: Node's parser accepts it, and so may we.
    expect(statusOf((await raw('GET /metrics\r\n\r\n')).response)).toBe(200);
    await stillServing();
  });

  test('random bytes and random mutations of a valid request', async () => {
    const valid = Buffer.from('GET /metrics HTTP/1.1\r\nhost: 127.0.0.1\r\naccept: */*\r\n\r\n', 'latin1');
    const mutated = fc
      .tuple(fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }), fc.nat())
      .map(([flips, cut]) => {
        const out = Buffer.from(valid);
        for (const [at, v] of flips) out[at % out.length] = v;
        return out.subarray(0, Math.max(1, cut % (out.length + 1)));
      });
    const anyBytes = fc.uint8Array({ minLength: 1, maxLength: 2_000 }).map((a) => Buffer.from(a));
    await fc.assert(
      fc.asyncProperty(fc.oneof(mutated, anyBytes), async (bytes) => {
        const outcome = await raw(bytes);
        expect(outcome.hung).toBe(false);
      }),
      { numRuns: 150 },
    );
    await stillServing();
  });

  test('long URLs: 4 KB is a plain 404, beyond the header limit is 431 (or a close)', async () => {
    expect(statusOf((await raw(`GET /${'a'.repeat(4_096)} HTTP/1.1\r\nhost: x\r\n\r\n`)).response)).toBe(404);
    expect(statusOf((await raw(`GET /metrics?${'q=1&'.repeat(1_000)} HTTP/1.1\r\nhost: x\r\n\r\n`)).response)).toBe(
      200,
    );
    for (const size of [64 * 1024, 1024 * 1024]) {
      const outcome = await raw(`GET /${'a'.repeat(size)} HTTP/1.1\r\nhost: x\r\n\r\n`, { timeoutMs: 5_000 });
      expect(outcome.hung).toBe(false);
      const status = statusOf(outcome.response);
      if (status !== null) expect(status).toBe(431);
    }
    const hugeHeader = await raw(`GET /metrics HTTP/1.1\r\nhost: x\r\nx-big: ${'b'.repeat(100_000)}\r\n\r\n`, {
      timeoutMs: 5_000,
    });
    expect(hugeHeader.hung).toBe(false);
    expect([431, null]).toContain(statusOf(hugeHeader.response));
    await stillServing();
  });

  test('odd paths are 404, never a file or an error', async () => {
    for (const path of [
      '//metrics',
      '/metrics/../etc/passwd',
      '/%00',
      '/metrics%2f',
      'http://evil.example/metrics',
      '*',
      '/healthz/x',
    ]) {
      const outcome = await raw(`GET ${path} HTTP/1.1\r\nhost: x\r\n\r\n`);
      const status = statusOf(outcome.response);
      expect(status === 404 || status === 400).toBe(true);
    }
    await stillServing();
  });

  test('a large request body on a bad method is refused without being buffered', async () => {
    const body = Buffer.alloc(8 * 1024 * 1024, 0x61);
    const outcome = await raw(
      Buffer.concat([Buffer.from(`POST /metrics HTTP/1.1\r\nhost: x\r\ncontent-length: ${body.length}\r\n\r\n`), body]),
      { timeoutMs: 10_000 },
    );
    expect(outcome.hung).toBe(false);
    expect([405, null]).toContain(statusOf(outcome.response));
    await stillServing();
  });
});

describe('slow and many connections', () => {
  test('slowloris: partial requests are closed (408) after the header timeout, and the port keeps answering meanwhile', async () => {
    const sockets: Socket[] = [];
    const closedAt: number[] = [];
    const started = Date.now();
    const responses: string[] = [];
    for (let i = 0; i < 20; i++) {
      const s = connect({ port, host: '127.0.0.1' });
      s.on('error', () => undefined);
      s.on('data', (d: Buffer) => responses.push(d.toString('latin1')));
      s.on('close', () => closedAt.push(Date.now() - started));
      s.write('GET /metrics HTTP/1.1\r\nhost: x\r\n');
      sockets.push(s);
    }
    // Keep them trickling one header byte at a time, as slowloris does.
    const trickle = setInterval(() => {
      for (const s of sockets) if (!s.destroyed) s.write('x');
    }, 200);
    try {
      await stillServing();
      await new Promise((r) => setTimeout(r, LIMITS.headersTimeoutMs + 2_500));
      expect(closedAt.length).toBe(sockets.length);
      expect(Math.max(...closedAt)).toBeLessThan(LIMITS.headersTimeoutMs + 2_500);
      expect(responses.join('')).toContain('408');
    } finally {
      clearInterval(trickle);
      for (const s of sockets) s.destroy();
    }
    await stillServing();
  });

  test('many concurrent requests are answered (or closed beyond the connection cap) and the server survives', async () => {
    const outcomes = await Promise.all(
      Array.from({ length: 400 }, (_, i) =>
        raw(
          `GET ${['/metrics', '/healthz', '/readyz', '/nope'][i % 4]} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n`,
          { timeoutMs: 10_000 },
        ),
      ),
    );
    expect(outcomes.filter((o) => o.hung)).toEqual([]);
    const answered = outcomes.filter((o) => statusOf(o.response) !== null).length;
    expect(answered).toBeGreaterThanOrEqual(LIMITS.maxConnections);
    await stillServing();
  });

  test('a flood of idle connections above the cap is closed; once it is gone the port answers again', async () => {
    const sockets: Socket[] = [];
    let closedByServer = 0;
    await Promise.all(
      Array.from(
        { length: LIMITS.maxConnections * 3 },
        () =>
          new Promise<void>((resolve) => {
            const s = connect({ port, host: '127.0.0.1' }, () => resolve());
            s.on('error', () => resolve());
            s.on('close', () => closedByServer++);
            sockets.push(s);
          }),
      ),
    );
    await new Promise((r) => setTimeout(r, 300));
    expect(closedByServer).toBeGreaterThanOrEqual(LIMITS.maxConnections); // the ones over the cap
    for (const s of sockets) s.destroy();
    await new Promise((r) => setTimeout(r, 300));
    await stillServing();
  });

  test('clients that vanish mid-response do not hurt', async () => {
    await Promise.all(
      Array.from(
        { length: 100 },
        () =>
          new Promise<void>((resolve) => {
            const s = connect({ port, host: '127.0.0.1' }, () => {
              s.write('GET /metrics HTTP/1.1\r\nhost: x\r\n\r\n');
              setImmediate(() => {
                s.resetAndDestroy();
                resolve();
              });
            });
            s.on('error', () => resolve());
          }),
      ),
    );
    await stillServing();
  });

  test('nothing above was logged as a server error, and unhealthy / not ready are told apart', async () => {
    expect(logText).not.toContain('ops server error');
    health.ready = false;
    health.healthy = false;
    try {
      expect((await get('/readyz')).status).toBe(503);
      expect((await get('/healthz')).status).toBe(503);
      expect((await get('/metrics')).status).toBe(200);
    } finally {
      health.ready = true;
      health.healthy = true;
    }
  });
});
