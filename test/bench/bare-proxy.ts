// The floor of our platform: node:http in front of an undici Pool, no logic at all (no routing, no metering).
// `node dist/test/bench/bare-proxy.js UPSTREAM_URL` prints "listening PORT".
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';

const upstream = new Pool(process.argv[2], { connections: 16 });
const server = createServer((req, res) => {
  const path = (req.url ?? '/').replace(/^\/v1\/[^/]+/, '');
  upstream
    .request({ method: req.method as 'POST', path, headers: req.headers, body: req })
    .then(async (up) => {
      res.writeHead(up.statusCode, up.headers as Record<string, string>);
      for await (const chunk of up.body) res.write(chunk);
      res.end();
    })
    .catch(() => res.destroy());
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`listening ${(server.address() as AddressInfo).port}\n`);
});
