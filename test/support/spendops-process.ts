// Runs the built CLI (`bin/spendops`) as its own OS process, the way a user or an operator does.
import { ChildProcess, spawn, execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
/** `bin/spendops` at the repository root, from the sources (test/support) or the build (dist/test/support). */
export const SPENDOPS_BIN = [
  join(__dirname, '..', '..', 'bin', 'spendops'),
  join(__dirname, '..', '..', '..', 'bin', 'spendops'),
].find((p) => existsSync(p))!;

export interface SpendOpsProcess {
  url: string;
  /** The bootstrap admin token when this start generated one. */
  adminToken: string | null;
  child: ChildProcess;
  output(): string;
  /** SIGTERM and wait for the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /**
   * Test teardown: SIGKILL, then stop the embedded PostgreSQL the process started (a killed SpendOps leaves its
   * postmaster running on purpose — the next start adopts it — which a finished test must not leave behind).
   */
  dispose(): Promise<void>;
}

/** The data dir a `serve` would use, from `--data-dir` or SPENDOPS_DATA_DIR (none: the default, left alone). */
function dataDirOf(args: string[], env: NodeJS.ProcessEnv): string | undefined {
  const i = args.indexOf('--data-dir');
  return i >= 0 ? args[i + 1] : env.SPENDOPS_DATA_DIR;
}

/** Immediate shutdown of the embedded postmaster of `dataDir`, when one runs. */
function stopEmbeddedPostgres(dataDir: string | undefined): void {
  if (!dataDir) return;
  try {
    const pid = Number(readFileSync(join(dataDir, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0]);
    if (pid > 0) process.kill(pid, 'SIGQUIT');
  } catch {
    // No cluster there, or it is already gone.
  }
}

export async function startSpendOps(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 60_000,
): Promise<SpendOpsProcess> {
  const child = spawn(process.execPath, [SPENDOPS_BIN, 'serve', ...args], {
    env: { ...process.env, SPENDOPS_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`spendops did not start in ${timeoutMs} ms:\n${out}`)),
      timeoutMs,
    );
    const check = () => {
      const m = /SpendOps listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`spendops exited with ${code} before listening:\n${out}`));
    });
  });
  const token = /Bootstrap admin token[^:]*: (aso_admin_\S+)/.exec(out);
  return {
    url,
    adminToken: token ? token[1] : null,
    child,
    output: () => out,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode !== null) return child.exitCode;
      child.kill(signal);
      return exited;
    },
    async dispose() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
      stopEmbeddedPostgres(dataDirOf(args, env));
    },
  };
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `spendops ARGS` to completion. */
export async function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  try {
    const { stdout, stderr } = await run(process.execPath, [SPENDOPS_BIN, ...args], {
      env: { ...process.env, SPENDOPS_LOG_LEVEL: 'warn', ...env },
      timeout: 120_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}
