// A private RabbitMQ broker for tests: its own node name, ports and data directory, started from the machine's
// rabbitmq-server installation (scripts/ci/rabbitmq.sh installs it). The real start script is run directly (not
// the /usr/sbin wrapper, which switches to the `rabbitmq` user and insists on /var/lib/rabbitmq), so it works
// as root and as an ordinary user alike. stopBroker()/startBroker() restart the same node on the same data and
// port, for outage tests.
//
// No rabbitmqctl: each call boots a second Erlang VM (the Elixir CLI) just to talk to the node, which took
// 10-46 s per call on a loaded 2-core machine (an outage test spent 84 s of its 150 s in `stop` and
// `await_startup`). Instead the node is stopped with SIGTERM to the start script, which stops it gracefully as
// `rabbitmqctl stop` does (~1 s), and it counts as started once an AMQP handshake succeeds: what clients need.
import { connect as amqpConnect } from 'amqplib';
import { ChildProcess, spawn } from 'node:child_process';
import {
  existsSync,
  openSync,
  closeSync,
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

export interface RabbitMqInstance {
  /** amqp://guest:guest@127.0.0.1:<port> */
  url: string;
  nodeName: string;
  port: number;
  /** Mnesia, logs, config and cookie of this node (removed by stop()). */
  dataDir: string;
  /** Stops the broker and removes its data. */
  stop(): Promise<void>;
  /** Stops the broker, keeping its data (an outage). */
  stopBroker(): Promise<void>;
  /** Starts the stopped broker again on the same data and port. */
  startBroker(): Promise<void>;
}

const SCRIPT_CANDIDATES = ['/usr/lib/rabbitmq/bin', '/usr/local/lib/rabbitmq/bin', '/opt/rabbitmq/sbin'];
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 30_000;

/** Directory holding the real rabbitmq-server and rabbitmqctl scripts, or undefined when not installed. */
export function rabbitMqScriptsDir(): string | undefined {
  const fromEnv = process.env.SPENDOPS_RABBITMQ_SBIN;
  const dirs = fromEnv ? [fromEnv, ...SCRIPT_CANDIDATES] : SCRIPT_CANDIDATES;
  return dirs.find((dir) => existsSync(join(dir, 'rabbitmq-server')) && existsSync(join(dir, 'rabbitmqctl')));
}

export function rabbitMqAvailable(): boolean {
  return rabbitMqScriptsDir() !== undefined;
}

export async function startRabbitMq(): Promise<RabbitMqInstance> {
  const sbin = rabbitMqScriptsDir();
  if (!sbin) throw new Error('rabbitmq-server is not installed (run scripts/ci/rabbitmq.sh)');
  const base = mkdtempSync(join(tmpdir(), 'spendops-rabbitmq-'));
  // World-traversable so a broker run as the `rabbitmq` user could use it too; nothing secret lives here.
  chmodSync(base, 0o755);
  const nodeName = `spendops-test-${randomBytes(4).toString('hex')}@localhost`;
  const port = await freePort();
  const distPort = await freePort();
  for (const dir of ['mnesia', 'log']) mkdirSync(join(base, dir));
  writeFileSync(join(base, 'enabled_plugins'), '[].\n');
  writeFileSync(
    join(base, 'rabbitmq.conf'),
    ['loopback_users = none', 'disk_free_limit.absolute = 10MB', 'log.console = false', ''].join('\n'),
  );
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOME: base, // the Erlang cookie lives here; rabbitmqctl must see the same one
    RABBITMQ_NODENAME: nodeName,
    RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
    RABBITMQ_NODE_PORT: String(port),
    RABBITMQ_DIST_PORT: String(distPort),
    RABBITMQ_MNESIA_BASE: join(base, 'mnesia'),
    RABBITMQ_LOG_BASE: join(base, 'log'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(base, 'enabled_plugins'),
    RABBITMQ_FEATURE_FLAGS_FILE: join(base, 'feature_flags'),
    RABBITMQ_CONFIG_FILE: join(base, 'rabbitmq.conf'),
    RABBITMQ_ADVANCED_CONFIG_FILE: join(base, 'advanced.config'),
    RABBITMQ_CONF_ENV_FILE: join(base, 'rabbitmq-env.conf'),
    RABBITMQ_PID_FILE: join(base, 'rabbitmq.pid'),
  };

  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  const running = (): boolean => !!child && child.exitCode === null && child.signalCode === null;
  const killOnExit = (): void => {
    if (child?.pid && running()) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  };
  process.on('exit', killOnExit);
  const url = `amqp://guest:guest@127.0.0.1:${port}`;

  const startBroker = async (): Promise<void> => {
    if (running()) return;
    const logPath = join(base, 'log', 'startup.log');
    const logFd = openSync(logPath, 'a');
    // Own process group, so a failed start can be killed whole (erl, beam, erl_child_setup).
    const proc = spawn(join(sbin, 'rabbitmq-server'), [], {
      env,
      detached: true,
      stdio: ['ignore', logFd, logFd],
    });
    closeSync(logFd);
    child = proc;
    exited = new Promise((resolve) => proc.once('exit', () => resolve()));
    try {
      await waitForAmqp(url, port, proc, START_TIMEOUT_MS);
    } catch (err) {
      killOnExit();
      const tail = readTail(logPath);
      throw new Error(`RabbitMQ ${nodeName} did not start: ${(err as Error).message}\n${tail}`);
    }
  };

  const stopBroker = async (): Promise<void> => {
    if (!child?.pid || !running()) return;
    // The start script traps SIGTERM and stops the node gracefully (clients see the broker close their
    // connections), then exits.
    try {
      process.kill(child.pid, 'SIGTERM');
    } catch {
      // already gone
    }
    let timer: NodeJS.Timeout | undefined;
    const done = await Promise.race([
      exited.then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), STOP_TIMEOUT_MS))),
    ]);
    clearTimeout(timer);
    if (!done) {
      killOnExit();
      await exited;
    }
  };

  const stop = async (): Promise<void> => {
    await stopBroker();
    process.off('exit', killOnExit);
    rmSync(base, { recursive: true, force: true });
  };

  await startBroker();
  return {
    url,
    nodeName,
    port,
    dataDir: base,
    stop,
    stopBroker,
    startBroker,
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Until an AMQP handshake with the node succeeds (an open port alone can precede the node's readiness). */
async function waitForAmqp(url: string, port: number, proc: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = `AMQP port ${port} not open`;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null || proc.signalCode !== null)
      throw new Error(`broker exited with ${proc.exitCode ?? proc.signalCode}`);
    if (await canConnect(port)) {
      try {
        const conn = await amqpConnect(url, { timeout: Math.max(1_000, deadline - Date.now()) });
        await conn.close();
        return;
      } catch (err) {
        last = `AMQP handshake: ${(err as Error).message}`;
      }
    }
    await sleep(100);
  }
  throw new Error(`not ready within ${timeoutMs} ms (${last})`);
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function readTail(path: string): string {
  try {
    return readFileSync(path, 'utf8').slice(-2000);
  } catch {
    return '';
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
