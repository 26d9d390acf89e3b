// Test harness shared by the extractor specs (not exported from the library): golden reports in the
// reference's shape, feeding a body in every split and in seeded random chunks.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ExtractRequest, UsageExtractor, UsageReport } from './report';

export type NewExtractor = (req: ExtractRequest) => UsageExtractor;

export function run(make: NewExtractor, req: ExtractRequest, ...chunks: Buffer[]): UsageReport {
  const e = make(req);
  for (const c of chunks) e.write(c);
  return e.report();
}

/** The report as the reference's golden files hold it (Go field names; Raw as parsed JSON). */
export function goShape(r: UsageReport): unknown {
  return {
    Found: r.found,
    Tokens: r.tokens,
    EndpointClass: r.endpointClass,
    NotBilled: r.notBilled,
    Complete: r.complete,
    WebSearchRequests: r.webSearchRequests,
    ImageCount: r.imageCount,
    ImageSize: r.imageSize,
    ImageQuality: r.imageQuality,
    AudioSeconds: r.audioSeconds,
    InputCharacters: r.inputCharacters,
    ProviderCost: r.providerCost,
    ResponseModel: r.responseModel,
    GenerationID: r.generationId,
    ServiceTier: r.serviceTier,
    Raw: r.raw === null ? null : (JSON.parse(r.raw) as unknown),
    OutputChars: r.outputChars,
    OutputTokensEstimate: r.outputTokensEstimate,
  };
}

export const compact = (r: UsageReport): string => JSON.stringify(r);

export function readFixture(dir: string, name: string): Buffer {
  return readFileSync(join(dir, 'fixtures', name));
}

export function golden(dir: string, fixture: string): unknown {
  const name = fixture.replace(/\.[^.]+$/, '') + '.usage.json';
  return JSON.parse(readFileSync(join(dir, 'fixtures', name), 'utf8')) as unknown;
}

/** A small seeded generator (mulberry32), so random chunkings repeat. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomChunks(next: () => number, b: Buffer): Buffer[] {
  const out: Buffer[] = [];
  while (b.length > 0) {
    const n = 1 + Math.floor(next() * Math.min(b.length, 64));
    out.push(b.subarray(0, n));
    b = b.subarray(n);
  }
  return out;
}

export function fixedChunks(b: Buffer, n: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < b.length; i += n) out.push(b.subarray(i, i + n));
  return out;
}

/** The body cut in two at every step-th boundary (both ends included) reports `want`; returns the first miss. */
export function everySplit(
  body: Buffer,
  step: number,
  want: string,
  report: (...chunks: Buffer[]) => string,
): string | null {
  for (let i = 0; i <= body.length; i += step) {
    const got = report(body.subarray(0, i), body.subarray(i));
    if (got !== want) return `split at ${i}: ${got}`;
  }
  return null;
}

export function feedChunked(
  body: Buffer,
  rounds: number,
  want: string,
  report: (...chunks: Buffer[]) => string,
): string | null {
  const next = rng(1);
  for (let round = 0; round < rounds; round++) {
    const got = report(...randomChunks(next, body));
    if (got !== want) return `round ${round}: ${got}`;
  }
  return null;
}
