// The ops port: /metrics (Prometheus text), /healthz (alive, consumer not crashed),
// /readyz (joined the group and has partitions). Binds to localhost unless told otherwise.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';

export interface HealthSource {
  readonly healthy: boolean;
  readonly ready: boolean;
  readonly state: string;
}

export interface OpsServer {
  url: string;
  close(): Promise<void>;
}

/**
 * Limits for a port that only ever serves three tiny GETs: a request must arrive whole within
 * seconds (slowloris), and the connections it may hold are capped so a flood cannot take the
 * file descriptors the Kafka and Cognito clients need. Over the cap, Node closes new sockets.
 */
export const OPS_LIMITS = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5_000,
  maxConnections: 256,
  maxHeaderSize: 16_384,
} as const;

export type OpsLimits = { [K in keyof typeof OPS_LIMITS]: number };

export async function startOpsServer(o: {
  host: string;
  port: number;
  metrics: Metrics;
  service: HealthSource;
  logger: Logger;
  limits?: Partial<OpsLimits>;
}): Promise<OpsServer> {
  const limits: OpsLimits = { ...OPS_LIMITS, ...o.limits };
  const options = {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    maxHeaderSize: limits.maxHeaderSize,
    connectionsCheckingInterval: Math.min(1_000, limits.headersTimeoutMs),
  };
  const server: Server = createServer(options, (req, res) => {
    const send = (status: number, body: string, type = 'text/plain; charset=utf-8'): void => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'method not allowed\n');
    const path = (req.url ?? '/').split('?')[0];
    switch (path) {
      case '/metrics':
        o.metrics.registry
          .metrics()
          .then((text) => send(200, text, o.metrics.registry.contentType))
          .catch(() => send(500, 'metrics unavailable\n'));
        return;
      case '/healthz':
        return o.service.healthy ? send(200, `ok ${o.service.state}\n`) : send(503, `unhealthy ${o.service.state}\n`);
      case '/readyz':
        return o.service.ready ? send(200, 'ready\n') : send(503, `not ready ${o.service.state}\n`);
      default:
        return send(404, 'not found: try /metrics, /healthz, /readyz\n');
    }
  });
  server.maxConnections = limits.maxConnections;
  // Malformed, oversized or too slow requests: answer with a status when the socket can still
  // take one, then close. Never a crash, never a hung socket.
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (err.code === 'ECONNRESET' || !socket.writable) return void socket.destroy();
    const status =
      err.code === 'HPE_HEADER_OVERFLOW'
        ? '431 Request Header Fields Too Large'
        : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? '408 Request Timeout'
          : '400 Bad Request';
    socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`, () => socket.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // After listening, an error (e.g. EMFILE on accept) is logged: an unhandled 'error' event
  // would kill the sync for the sake of its metrics port.
  server.on('error', (error) => o.logger.error({ err: error }, 'ops server error'));
  const { port } = server.address() as AddressInfo;
  const url = `http://${o.host.includes(':') ? `[${o.host}]` : o.host}:${port}`;
  return {
    url,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        // Idle keep-alive and half-open (slowloris) sockets must not hold the shutdown.
        server.closeAllConnections();
      }),
  };
}
