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

export async function startOpsServer(o: { host: string; port: number; metrics: Metrics; service: HealthSource; logger: Logger }): Promise<OpsServer> {
  const server: Server = createServer((req, res) => {
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
  server.on('clientError', (_err, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${o.host}:${port}`;
  return {
    url,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
