// The admin HTTP endpoint: /metrics for Prometheus, /healthz (alive) and /readyz (accepting clients).
import http from 'node:http';

export interface AdminHttpSource {
  /** One proxy's registry, or (with workers) the primary's view aggregated over every worker. */
  registry: { metrics(): Promise<string>; contentType: string };
  ready(): boolean;
}

export function startAdminHttp(host: string, port: number, source: AdminHttpSource): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/metrics') {
      source.registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': source.registry.contentType });
          res.end(text);
        },
        (err: Error) => {
          res.writeHead(500);
          res.end(err.message);
        },
      );
    } else if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok\n');
    } else if (path === '/readyz') {
      const ready = source.ready();
      res.writeHead(ready ? 200 : 503, { 'content-type': 'text/plain' });
      res.end(ready ? 'ready\n' : 'not ready\n');
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found: try /metrics, /healthz or /readyz\n');
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
