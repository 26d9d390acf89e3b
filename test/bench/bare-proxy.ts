// The floor of our platform: node:http in front of an undici Pool, no logic at all (no routing, no metering),
// but honest streaming: a chunk is written as it arrives and the upstream waits while the client is slow.
// `node dist/test/bench/bare-proxy.js UPSTREAM_URL` prints "listening PORT".
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';

const upstream = new Pool(process.argv[2], { connections: null });
const server = createServer((req, res) => {
  const path = (req.url ?? '/').replace(/^\/v1\/[^/]+/, '');
  upstream
    .request({ method: req.method as 'POST', path, headers: req.headers, body: req })
    .then(async (up) => {
      res.writeHead(up.statusCode, up.headers as Record<string, string>);
      for await (const chunk of up.body) if (!res.write(chunk)) await once(res, 'drain');
      res.end();
    })
    .catch(() => res.destroy());
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`listening ${(server.address() as AddressInfo).port}\n`);
});
