import { brotliCompressSync, constants, createGzip, deflateSync, gzipSync } from 'node:zlib';
import { createEndWatcher } from './end-watcher';

const stream = 'data: {"choices":[{"delta":{"content":"a"}}]}\n\n' + 'data: [DONE]\n\n';

async function watch(encoding: string, body: Buffer, step: number): Promise<boolean> {
  const w = createEndWatcher(encoding);
  if (!w) throw new Error(`no watcher for ${encoding}`);
  for (let i = 0; i < body.length; i += step) await w.push(body.subarray(i, i + step));
  w.close();
  return w.complete;
}

describe('createEndWatcher', () => {
  const plain = Buffer.from(stream);
  const cut = Buffer.from(stream.slice(0, stream.indexOf('data: [DONE]')));
  const encoded: Array<[string, (b: Buffer) => Buffer]> = [
    ['identity', (b) => b],
    ['', (b) => b],
    ['gzip', (b) => gzipSync(b)],
    ['x-gzip', (b) => gzipSync(b)],
    ['deflate', (b) => deflateSync(b)],
    ['br', (b) => brotliCompressSync(b, { params: { [constants.BROTLI_PARAM_QUALITY]: 4 } })],
  ];
  it.each(encoded.map(([enc, fn]) => ({ enc, fn })))(
    'sees the end marker through "$enc", and not in a cut stream',
    async ({ enc, fn }) => {
      for (const step of [1, 5, 1 << 20]) {
        expect(await watch(enc, fn(plain), step)).toBe(true);
        expect(await watch(enc, fn(cut), step)).toBe(false);
      }
    },
  );

  it('sees the marker as soon as its compressed bytes arrive (sync-flushed gzip stream)', async () => {
    const gz = createGzip();
    const parts: Buffer[] = [];
    gz.on('data', (d: Buffer) => parts.push(d));
    const w = createEndWatcher('gzip')!;
    gz.write(cut);
    await new Promise<void>((r) => gz.flush(constants.Z_SYNC_FLUSH, () => r()));
    await w.push(Buffer.concat(parts.splice(0)));
    expect(w.complete).toBe(false);
    gz.write('data: [DONE]\n\n');
    await new Promise<void>((r) => gz.flush(constants.Z_SYNC_FLUSH, () => r()));
    await w.push(Buffer.concat(parts.splice(0)));
    expect(w.complete).toBe(true); // before the gzip stream even ended
    w.close();
    gz.destroy();
  });

  it('stops quietly on corrupt input and has no watcher for stacked or unknown encodings', async () => {
    expect(await watch('gzip', Buffer.from('not gzip at all'), 4)).toBe(false);
    expect(createEndWatcher('gzip, br')).toBeNull();
    expect(createEndWatcher('compress')).toBeNull();
  });
});
