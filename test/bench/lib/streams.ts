// Concurrent SSE streams against a target: time to first byte from each stream's intended start, and per chunk
// the arrival time minus the send time the mock stamped into it (the delay the proxy added, plus the loopback).
import { setMaxListeners } from 'node:events';
import type { Histogram } from 'hdr-histogram-js';
import { Dispatcher, request } from 'undici';
import { chatBody, Endpoint } from './endpoint';
import { newHistogram, recordUs } from './histogram';
import { parseStamp } from './mock-upstream';
import { nowUs } from './open-loop';

export interface StreamConfig {
  streams: number;
  chunks: number;
  delayMs: number;
  /** Stream j starts at j*rampMs/streams, so connection setup is not one SYN burst. */
  rampMs: number;
  timeoutMs: number;
}

export interface StreamResult {
  ttfb: Histogram;
  chunkDelay: Histogram;
  streams: number;
  completed: number;
  chunks: number;
  expected: number;
  usage: number;
  firstError: string;
}

/** Per SSE data line: a stamped content chunk, the usage-only chunk, [DONE], or something else. */
export function classifyLine(line: string): 'chunk' | 'usage' | 'done' | 'other' {
  if (!line.startsWith('data:')) return 'other';
  if (parseStamp(line) !== null) return 'chunk';
  if (line.includes('"choices":[]') && line.includes('"usage"')) return 'usage';
  if (line.slice(5).trim() === '[DONE]') return 'done';
  return 'other';
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits for `p` or `ms`, whichever is first, and clears the timer either way (a pending one kept the process up). */
async function waitAtMost(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([p, new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

export async function runStreams(
  dispatcher: Dispatcher,
  ep: Endpoint,
  cfg: StreamConfig,
): Promise<StreamResult> {
  const res: StreamResult = {
    ttfb: newHistogram(),
    chunkDelay: newHistogram(),
    streams: cfg.streams,
    completed: 0,
    chunks: 0,
    expected: cfg.streams * cfg.chunks,
    usage: 0,
    firstError: '',
  };
  const body = chatBody(`gpt-4o-mini@chunks=${cfg.chunks},delay_ms=${cfg.delayMs}`, true);
  const start = nowUs();
  const one = async (intended: number) => {
    const signal = AbortSignal.timeout(cfg.timeoutMs);
    const r = await request(ep.base + ep.path, {
      method: 'POST',
      headers: ep.headers,
      body,
      dispatcher,
      signal,
    });
    if (r.statusCode !== 200) {
      await r.body.text();
      throw new Error(`status ${r.statusCode}`);
    }
    let buf = '';
    let first = true;
    for await (const piece of r.body) {
      const arrivedNs = process.hrtime.bigint();
      buf += (piece as Buffer).toString('utf8');
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const kind = classifyLine(line);
        if (kind === 'other') continue;
        if (first) {
          recordUs(res.ttfb, nowUs() - intended);
          first = false;
        }
        if (kind === 'chunk') {
          res.chunks++;
          recordUs(res.chunkDelay, Number(arrivedNs - parseStamp(line)!) / 1000);
        } else if (kind === 'usage') res.usage++;
        else if (kind === 'done') {
          res.completed++;
          return;
        }
      }
    }
    throw new Error('stream ended without [DONE]');
  };
  const all: Array<Promise<void>> = [];
  for (let j = 0; j < cfg.streams; j++) {
    const intended = start + (j * cfg.rampMs * 1000) / cfg.streams;
    const wait = (intended - nowUs()) / 1000;
    if (wait >= 1) await sleep(wait);
    all.push(
      one(intended).catch((err: unknown) => {
        if (!res.firstError) res.firstError = err instanceof Error ? err.message : String(err);
      }),
    );
  }
  await Promise.all(all);
  return res;
}

/** Opens `n` streams the mock holds after their first chunk; resolves once each has its first chunk or failed. */
export async function holdStreams(
  dispatcher: Dispatcher,
  ep: Endpoint,
  n: number,
  rampMs: number,
  timeoutMs = 30_000,
): Promise<{ opened: number; release: () => Promise<void> }> {
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  const body = chatBody('gpt-4o-mini@hold=1', true);
  let opened = 0;
  const bodies: Array<Promise<void>> = [];
  const ready: Array<Promise<void>> = [];
  for (let j = 0; j < n; j++) {
    if (j % 100 === 0) await sleep((rampMs * 100) / n);
    ready.push(
      (async () => {
        const r = await request(ep.base + ep.path, {
          method: 'POST',
          headers: ep.headers,
          body,
          dispatcher,
          signal: controller.signal,
        });
        const it = r.body[Symbol.asyncIterator]();
        const first = await it.next();
        if (r.statusCode === 200 && !first.done) opened++;
        bodies.push(
          (async () => {
            for (let x = await it.next(); !x.done; x = await it.next());
          })().catch(() => undefined),
        );
      })().catch(() => undefined),
    );
  }
  await waitAtMost(Promise.all(ready), timeoutMs);
  return {
    opened,
    release: async () => {
      controller.abort();
      await waitAtMost(Promise.all(bodies), 5_000);
    },
  };
}
