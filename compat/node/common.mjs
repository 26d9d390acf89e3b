// Shared plumbing for the Node SDK drivers (same record format as
// compat/py/common.py: one JSON line per step appended to COMPAT_OUT).
import { appendFileSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';

export const PROXY = process.env.COMPAT_PROXY ?? 'http://127.0.0.1:8080';
export const DIRECT = process.env.COMPAT_DIRECT ?? '';
export const KEY = process.env.COMPAT_KEY ?? 'aso_k_missing.key';
export const RUN = process.env.COMPAT_RUN ?? String(process.pid);
const OUT = process.env.COMPAT_OUT ?? '/dev/stdout';

export const REPLY = 'Hello from the scripted upstream.';
export const PROMPT = 'Say hello.';
export const WEATHER_PARAMS = {
  type: 'object',
  properties: { city: { type: 'string', description: 'City name' } },
  required: ['city'],
};
const MIN_SPREAD_MS = Number(process.env.COMPAT_MIN_SPREAD ?? '0.1') * 1000;

export class Check extends Error {}
export function check(cond, msg) {
  if (!cond) throw new Check(msg);
}

// pkgVersion reads an installed package's version from its package.json.
export function pkgVersion(name) {
  const require = createRequire(import.meta.url);
  let dir = require.resolve(name);
  // Walk up to the package root (the directory named like the package).
  const marker = `/node_modules/${name}/`;
  dir = dir.slice(0, dir.lastIndexOf(marker) + marker.length);
  return JSON.parse(readFileSync(`${dir}package.json`, 'utf8')).version;
}

export const dimsObject = (app) => ({ team: 'compat', app, env: 'ci' });
export const dimsHeader = (app) => `team=compat,app=${app},env=ci`;

export function now() {
  return performance.now() / 1000;
}

export function checkSpread(times, what) {
  const spread = times.length ? (times[times.length - 1] - times[0]) * 1000 : 0;
  check(spread >= MIN_SPREAD_MS, `${what}: all ${times.length} streamed items arrived within ${spread.toFixed(0)} ms (buffered stream?)`);
}

// valueDiff lists where two JSON values differ, as readable paths.
export function valueDiff(x, y, path = '$') {
  const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (isObj(x) && isObj(y)) {
    const out = [];
    for (const k of [...new Set([...Object.keys(x), ...Object.keys(y)])].sort()) {
      if (!(k in y)) out.push(`${path}.${k} only through SpendOps (${JSON.stringify(x[k])?.slice(0, 80)})`);
      else if (!(k in x)) out.push(`${path}.${k} missing through SpendOps (direct: ${JSON.stringify(y[k])?.slice(0, 80)})`);
      else out.push(...valueDiff(x[k], y[k], `${path}.${k}`));
    }
    return out;
  }
  if (Array.isArray(x) && Array.isArray(y) && x.length === y.length) {
    return x.flatMap((v, i) => valueDiff(v, y[i], `${path}[${i}]`));
  }
  const sx = JSON.stringify(x);
  const sy = JSON.stringify(y);
  return sx === sy ? [] : [`${path}: ${sx?.slice(0, 80)} through SpendOps, ${sy?.slice(0, 80)} direct`];
}

export function firstDiff(a, b) {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const d = valueDiff(a[i], b[i]);
    if (d.length) return `chunk ${i} of ${a.length}: ${d.slice(0, 4).join('; ')}`;
  }
  if (a.length !== b.length) {
    const extra = a.length > b.length ? a[b.length] : b[a.length];
    return `chunk count differs: ${a.length} through SpendOps, ${b.length} direct (first extra: ${JSON.stringify(extra).slice(0, 200)})`;
  }
  return '';
}

// headerOf reads a header from a Headers object or a plain record.
export function headerOf(h, name) {
  if (!h) return undefined;
  if (typeof h.get === 'function') return h.get(name) ?? undefined;
  const lower = name.toLowerCase();
  for (const [k, v] of Object.entries(h)) if (k.toLowerCase() === lower) return v;
  return undefined;
}

export class Driver {
  constructor(sdk, version, app, dims) {
    this.sdk = sdk;
    this.version = version;
    this.app = app;
    this.dims = dims ?? dimsObject(app);
    this.failed = 0;
  }

  trace(step, where = 'proxy') {
    return `${this.sdk}.${step}.${RUN}#${where}`;
  }

  async step(name, what, fn) {
    const calls = [];
    const notes = [];
    const ctx = {
      trace: (where = 'proxy') => this.trace(name, where),
      call: (requestId, { trace, outcome = 'completed', status = 200, usage = 'provider', dims, lookup } = {}) => {
        if (!lookup) check(requestId, "no X-ASO-Request-Id visible through the SDK's raw response");
        calls.push({
          lookup: lookup ?? null,
          request_id: requestId ?? null,
          trace: trace ?? this.trace(name),
          outcome,
          http_status: status,
          usage,
          dims: dims ?? this.dims,
        });
      },
      note: (t) => notes.push(t),
    };
    const start = now();
    const rec = { sdk: this.sdk, version: this.version, step: name, what };
    try {
      await fn(ctx);
      rec.ok = true;
    } catch (e) {
      rec.ok = false;
      rec.error = `${e?.constructor?.name ?? 'Error'}: ${e?.message ?? e}`.slice(0, 1500);
      if (!(e instanceof Check)) rec.trace = String(e?.stack ?? '').slice(0, 1500);
      this.failed++;
    }
    rec.calls = calls;
    rec.notes = notes;
    rec.seconds = Math.round((now() - start) * 1000) / 1000;
    appendFileSync(OUT, JSON.stringify(rec) + '\n');
    console.log(`[${rec.ok ? 'ok ' : 'FAIL'}] ${this.sdk} ${name}${rec.ok ? '' : ': ' + rec.error}`);
  }

  finish() {
    process.exitCode = this.failed ? 1 : 0;
  }
}
