import type { EventFilter } from '@spendops/contracts';
import { exportStream, type Page } from './export-stream';

/** A keyset reader over 0..n-1 that records every page it was asked for. */
function reader(n: number, fail?: number) {
  const calls: EventFilter[] = [];
  const read = async (f: EventFilter): Promise<Page<number>> => {
    calls.push(f);
    if (fail !== undefined && calls.length === fail) throw new Error('database went away');
    const start = f.next ? Number(f.next) : 0;
    const limit = f.limit ?? 100;
    const items = Array.from({ length: Math.max(0, Math.min(limit, n - start)) }, (_, i) => start + i);
    return { items, next: start + limit < n ? String(start + limit) : null };
  };
  return { read, calls };
}

async function collect(stream: NodeJS.ReadableStream): Promise<string> {
  let out = '';
  for await (const chunk of stream) out += String(chunk);
  return out;
}

describe('exportStream', () => {
  it('walks every page with the cursor and keeps the filter', async () => {
    const r = reader(25);
    const s = await exportStream(r.read, { provider: 'openai' }, 0, (n) => `${n}\n`, 'head\n', 10);
    const text = await collect(s);
    expect(text).toBe('head\n' + Array.from({ length: 25 }, (_, i) => `${i}\n`).join(''));
    expect(r.calls.map((c) => [c.provider, c.limit, c.next])).toEqual([
      ['openai', 10, undefined],
      ['openai', 10, '10'],
      ['openai', 10, '20'],
    ]);
  });

  it('caps the total at limit, asking only for the rows still wanted', async () => {
    const r = reader(100);
    const text = await collect(await exportStream(r.read, {}, 23, (n) => `${n}\n`, '', 10));
    expect(text.split('\n').filter(Boolean)).toHaveLength(23);
    expect(r.calls.map((c) => c.limit)).toEqual([10, 10, 3]);
  });

  it('reads a page only when the client has taken the previous ones (no buffering of the whole export)', async () => {
    const r = reader(100_000);
    const s = await exportStream(r.read, {}, 0, (n) => `${n}\n`, '', 10);
    expect(r.calls).toHaveLength(1); // the first page, read before the response starts
    const it = s[Symbol.asyncIterator]();
    await it.next();
    await new Promise((res) => setTimeout(res, 20));
    // Node's read-ahead (highWaterMark 16 KiB) is a handful of 30-byte pages, far from 10,000.
    expect(r.calls.length).toBeLessThan(1000);
    s.destroy();
  });

  it('fails before the first byte when the first page fails, and errors the stream on a later failure', async () => {
    await expect(exportStream(reader(5, 1).read, {}, 0, String)).rejects.toThrow('database went away');
    const s = await exportStream(reader(50, 2).read, {}, 0, (n) => `${n}\n`, '', 10);
    await expect(collect(s)).rejects.toThrow('database went away');
  });
});
