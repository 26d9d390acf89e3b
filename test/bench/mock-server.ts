// `node dist/test/bench/mock-server.js` runs the bench's mock upstream in its own process; prints "listening PORT".
import { startMockUpstream } from './lib/mock-upstream';

startMockUpstream()
  .then((m) => process.stdout.write(`listening ${new URL(m.url).port}\n`))
  .catch((err: unknown) => {
    process.stderr.write(`mock: ${String(err)}\n`);
    process.exit(1);
  });
