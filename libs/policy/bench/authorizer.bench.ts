// Micro-benchmark (not a test): the per-request cost of the key and policy checks on the proxy's request path,
// authenticate (awaited, as the proxy does) + authorize, for a 2 KB chat body. Each case is timed in several
// rounds against an empty loop of the same shape (an awaited no-op), and the floor is subtracted.
// Run: npm run build && node dist/libs/policy/bench/authorizer.bench.js [--rounds N] [--iterations N]
import type { AuthorizationResult } from '@spendops/contracts';
import { hashKey } from '../src/key-format';
import { benchSetup } from './scenarios';

const TARGET_US = 5;

function arg(name: string, fallback: number): number {
  const at = process.argv.indexOf(name);
  const v = at >= 0 ? Number(process.argv[at + 1]) : NaN;
  return Number.isFinite(v) && v > 0 ? v : fallback;
}

type Step = () => Promise<unknown> | unknown;

interface Rounds {
  /** Wall-clock ns per call of each round, sorted. */
  wall: number[];
  /** CPU (user + system) ns per call of each round, sorted: less disturbed when other work shares the cores. */
  cpu: number[];
}

/** Times `step` in rounds. Awaits every call: authenticate is async on the real path. */
async function rounds(step: Step, iterations: number, count: number): Promise<Rounds> {
  for (let i = 0; i < iterations; i++) await step(); // warm up the JIT
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let r = 0; r < count; r++) {
    const cpu0 = process.cpuUsage();
    const start = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) await step();
    wall.push(Number(process.hrtime.bigint() - start) / iterations);
    const used = process.cpuUsage(cpu0);
    cpu.push(((used.user + used.system) * 1000) / iterations);
  }
  const up = (a: number, b: number) => a - b;
  return { wall: wall.sort(up), cpu: cpu.sort(up) };
}

const median = (xs: number[]) => xs[Math.floor(xs.length / 2)];
const us = (ns: number) => (ns / 1000).toFixed(2).padStart(7);

async function main(): Promise<void> {
  const iterations = arg('--iterations', 50_000);
  const count = arg('--rounds', 7);
  const { auth, scenarios } = benchSetup();
  let sink: AuthorizationResult | undefined;
  const check = async (key: string, input: (typeof scenarios)[number]['input']) => {
    const a = await auth.authenticate(key);
    if (!a.ok) throw new Error(`authenticate: ${a.message}`);
    sink = auth.authorize(a.key, input);
    return sink;
  };
  for (const s of scenarios) {
    const r = await check(s.key, s.input);
    if (!r.ok || r.model !== s.model) throw new Error(`${s.name}: not allowed (${JSON.stringify(r)})`);
  }

  const noop = async () => sink;
  const floor = await rounds(noop, iterations, count);
  console.log(`node ${process.version}, ${iterations} requests x ${count} rounds, µs per request`);
  const W = 50;
  console.log(`${''.padEnd(W)}   wall-clock µs    CPU µs   (empty-loop floor subtracted)`);
  console.log(`${'case'.padEnd(W)}    min  median    min  median`);
  const line = (name: string, r: Rounds, f: Rounds | null) => {
    const sub = (xs: number[], fs: number[], pick: (v: number[]) => number) => pick(xs) - (f ? pick(fs) : 0);
    const first = (xs: number[]) => xs[0];
    const cols = [
      sub(r.wall, f?.wall ?? [], first),
      sub(r.wall, f?.wall ?? [], median),
      sub(r.cpu, f?.cpu ?? [], first),
      sub(r.cpu, f?.cpu ?? [], median),
    ];
    console.log(`${name.slice(0, W).padEnd(W)}${cols.map(us).join('')}`);
  };
  line('empty loop floor (awaited no-op, raw)', floor, null);
  const report = (name: string, r: Rounds) => line(name, r, floor);

  for (const s of scenarios) {
    report(`auth+authorize: ${s.name}`, await rounds(() => check(s.key, s.input), iterations, count));
  }
  const typical = scenarios[0];
  report(
    '  authenticate only (remembered key)',
    await rounds(() => auth.authenticate(typical.key), iterations, count),
  );
  for (const s of scenarios) {
    const a = await auth.authenticate(s.key);
    if (!a.ok) throw new Error(a.message);
    report(
      `  authorize only: ${s.name}`,
      await rounds(() => auth.authorize(a.key, s.input), iterations, count),
    );
  }
  const secret = Buffer.alloc(32, 1);
  report(
    '  for scale: one HMAC-SHA-256 of a key',
    await rounds(() => hashKey(secret, typical.key), iterations, count),
  );
  console.log(`target: under ${TARGET_US} µs per request for a typical key`);
}

void main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
