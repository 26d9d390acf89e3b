import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as zlib from 'node:zlib';
import { decodeBody, parseContentEncoding } from './decode';

const fixture = (name: string): Buffer => readFileSync(join(__dirname, 'fixtures', name));
const sse = fixture('sse.txt');
// zstd frames are made with the reference's encoder (klauspost, fastest) or the zstd CLI; no encoder in node.
const zstdSse = fixture('sse.txt.zst');

/** Deterministic, mildly compressible test data (the reference's testData: words from a seeded source). */
function testData(seed: number, size: number): Buffer {
  const words = ['usage', 'tokens', 'delta', 'content', 'the', 'model', 'stream', 'cache', '\n', 'data: '];
  let x = seed >>> 0 || 1;
  const out: string[] = [];
  let n = 0;
  while (n < size) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    const w = words[x % words.length] + (x % 7 === 0 ? String(x % 1000) : '') + ' ';
    out.push(w);
    n += w.length;
  }
  return Buffer.from(out.join('')).subarray(0, size);
}

function compress(coding: string, data: Buffer): Buffer {
  switch (coding) {
    case 'gzip':
    case 'x-gzip':
      return zlib.gzipSync(data);
    case 'zlib':
      return zlib.deflateSync(data);
    case 'rawdeflate':
      return zlib.deflateRawSync(data);
    case 'br':
      return zlib.brotliCompressSync(data, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 4 } });
    default:
      return Buffer.from(data);
  }
}
const header = (coding: string): string =>
  coding === 'zlib' || coding === 'rawdeflate' ? 'deflate' : coding;

describe('decodeBody', () => {
  describe('round trip', () => {
    for (const coding of ['gzip', 'x-gzip', 'zlib', 'rawdeflate', 'br', 'identity', '']) {
      for (const size of [0, 1, 100, 64 << 10, 300 << 10]) {
        it(`${coding || '(none)'}/${size}`, () => {
          const data = testData(size + 1, size);
          const r = decodeBody(compress(coding, data), header(coding));
          expect(r.error).toBeUndefined();
          expect(r.data.equals(data)).toBe(true);
        });
      }
    }
  });

  describe('golden fixtures (made by other tools)', () => {
    const cases: [string, string][] = [
      ['sse.txt.gz', 'gzip'],
      ['sse.txt.gz', 'X-Gzip'],
      ['sse.txt.2members.gz', 'gzip'],
      ['sse.txt.zlib', 'deflate'],
      ['sse.txt.rawdeflate', 'deflate'],
      ['sse.txt.zst', 'zstd'],
      ['sse.txt.br', 'br'],
      ['sse.txt.gz.br', 'gzip, br'],
      ['sse.txt.gz.br', 'gzip,br'],
      ['sse.txt.gz.br', 'identity, gzip, identity, BR'],
    ];
    for (const [file, enc] of cases) {
      it(`${file} as ${enc}`, () => {
        const r = decodeBody(fixture(file), enc);
        expect(r.error).toBeUndefined();
        expect(r.data.equals(sse)).toBe(true);
      });
    }
  });

  it('refuses a zstd window beyond 8 MiB as corrupt', () => {
    expect(decodeBody(fixture('bigwindow.zst'), 'zstd').error).toBe('corrupt');
  });

  describe('stacked codings', () => {
    const data = testData(5, 200 << 10);
    const cases: [string[], string][] = [
      [['gzip', 'br'], 'gzip, br'],
      [['br', 'gzip'], 'br, gzip'],
      [['gzip', 'gzip'], 'gzip, gzip'],
      [['zlib', 'rawdeflate', 'gzip'], 'deflate, deflate, gzip'],
    ];
    for (const [applied, value] of cases) {
      it(value, () => {
        let enc = data;
        for (const c of applied) enc = compress(c, enc);
        const r = decodeBody(enc, value);
        expect(r.error).toBeUndefined();
        expect(r.data.equals(data)).toBe(true);
      });
    }
    it('zstd inside gzip', () => {
      const r = decodeBody(zlib.gzipSync(zstdSse), 'zstd, gzip');
      expect(r.error).toBeUndefined();
      expect(r.data.equals(sse)).toBe(true);
    });
    it('decoding in the wrong order fails as corrupt rather than passing gzip bytes on as text', () => {
      const enc = compress('br', compress('gzip', data));
      expect(decodeBody(enc, 'br, gzip').error).toBe('corrupt');
    });
  });

  it.each(['compress', 'x-compress', 'snappy', 'gzip, foo', 'aes128gcm', 'gzip, gzip, gzip, gzip, gzip'])(
    'unsupported %s',
    (v) => {
      expect(parseContentEncoding(v).ok).toBe(false);
      const r = decodeBody(Buffer.from('x'), v);
      expect(r.error).toBe('unsupported');
      expect(r.data.length).toBe(0);
    },
  );

  describe('corrupt', () => {
    const garbage = Buffer.from('this is not compressed at all, just text that a broken server sent');
    it.each(['gzip', 'zlib', 'br', 'zstd'])('%s garbage', (coding) => {
      expect(decodeBody(garbage, header(coding)).error).toBe('corrupt');
    });
    const data = testData(7, 100 << 10);
    it.each(['gzip', 'zlib'])('%s flipped byte (checksums catch it)', (coding) => {
      const enc = compress(coding, data);
      enc[enc.length >> 1] ^= 0x55;
      const r = decodeBody(enc, header(coding));
      expect(r.error).toBe('corrupt');
    });
    it('zstd flipped byte', () => {
      const enc = Buffer.from(zstdSse);
      enc[enc.length >> 1] ^= 0x55;
      expect(decodeBody(enc, 'zstd').error).toBe('corrupt');
    });
  });

  describe('truncated: everything decoded before the cut is kept', () => {
    const data = testData(9, 300 << 10);
    for (const coding of ['gzip', 'zlib', 'rawdeflate', 'br', 'identity']) {
      it(coding, () => {
        const enc = compress(coding, data);
        const r = decodeBody(enc.subarray(0, enc.length >> 1), header(coding));
        if (coding === 'identity') expect(r.error).toBeUndefined();
        else expect(r.error).toBe('corrupt');
        expect(r.data.length).toBeGreaterThan(0);
        expect(data.subarray(0, r.data.length).equals(r.data)).toBe(true);
      });
    }
    it('zstd', () => {
      const r = decodeBody(zstdSse.subarray(0, zstdSse.length >> 1), 'zstd');
      expect(r.error).toBe('corrupt');
      expect(sse.subarray(0, r.data.length).equals(r.data)).toBe(true);
    });
  });

  it('an empty body is no error for any coding', () => {
    for (const c of ['gzip', 'deflate', 'br', 'zstd', 'identity', '']) {
      expect(decodeBody(Buffer.alloc(0), c)).toEqual({ data: Buffer.alloc(0) });
    }
  });

  describe('bomb cap', () => {
    const maxOut = 256 << 10;
    const zeros = Buffer.alloc(8 << 20);
    for (const coding of ['gzip', 'zlib', 'br', 'identity']) {
      it(coding, () => {
        const enc = compress(coding, zeros);
        if (coding !== 'identity') expect(enc.length).toBeLessThan(64 << 10);
        const r = decodeBody(enc, header(coding), maxOut);
        expect(r.error).toBe('too_large');
        expect(r.data.length).toBeLessThanOrEqual(maxOut);
        if (coding === 'identity') expect(r.data.length).toBe(maxOut);
        expect(r.data.every((b) => b === 0)).toBe(true);
      });
    }
    it('zstd stops at exactly the cap', () => {
      const r = decodeBody(zstdSse, 'zstd', 1000);
      expect(r.error).toBe('too_large');
      expect(r.data.equals(sse.subarray(0, 1000))).toBe(true);
    });
  });

  it('never throws on random bytes under any coding (fuzz)', () => {
    const encodings = ['gzip', 'deflate', 'zstd', 'br', 'gzip, br', 'identity', 'br, zstd'];
    const seeds = [
      fixture('sse.txt.gz'),
      fixture('sse.txt.zst'),
      fixture('sse.txt.br'),
      fixture('sse.txt.zlib'),
    ];
    let x = 12345;
    for (let i = 0; i < 300; i++) {
      x = (x * 1103515245 + 12345) & 0x7fffffff;
      const base = Buffer.from(seeds[x % seeds.length]);
      base[x % base.length] ^= (x >> 8) & 0xff;
      const cut = base.subarray(0, (x >> 4) % (base.length + 1));
      const r = decodeBody(cut, encodings[i % encodings.length], 1 << 16);
      expect(r.data.length).toBeLessThanOrEqual(1 << 16);
    }
  });
});
