// Port of the reference's FuzzModelFromRequest property: the scanner agrees with a real JSON parser on validity
// and on the top-level "model", over generated bodies.
import { InvalidJsonBodyError, scanJsonBody } from './body-models';
import { firstControlByte } from './json-scanner';

const pieces = [
  '{',
  '}',
  '[',
  ']',
  ',',
  ':',
  '"model"',
  '"Model"',
  '"x"',
  '"gpt-5"',
  '1',
  '-0.5e3',
  'null',
  'true',
  ' ',
  '"\\u006d"',
  '"a\\"b"',
  '01',
  'NaN',
];

function topLevelModel(v: unknown): { dup: boolean; model: string } {
  let n = 0;
  let model = '';
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    for (const [k, val] of Object.entries(v)) {
      if (k.toLowerCase() === 'model') {
        n++;
        model = typeof val === 'string' ? val : '';
      }
    }
  }
  return { dup: n > 1, model };
}

/** The primary model a scan records, whatever it throws (what an unrestricted key records). */
function recordedPrimary(s: string, primaryOnly: boolean): string {
  const out = { primary: '', all: [] as string[] };
  try {
    scanJsonBody(Buffer.from(s), out, primaryOnly);
  } catch {
    // the scan keeps what it found before the error
  }
  return out.primary;
}

describe('JSON scanner vs JSON.parse', () => {
  it('agrees on generated bodies', () => {
    let seed = 42;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    let checked = 0;
    const value = (depth: number): unknown => {
      const r = rnd(depth > 2 ? 4 : 7);
      if (r === 0) return rnd(2) ? 'gpt-5' : 'a"\\é\u0001';
      if (r === 1) return rnd(1000) - 500 + rnd(10) / 10;
      if (r === 2) return null;
      if (r === 3) return rnd(2) === 1;
      if (r === 4) return Array.from({ length: rnd(3) }, () => value(depth + 1));
      return object(depth + 1);
    };
    const object = (depth: number): Record<string, unknown> => {
      const o: Record<string, unknown> = {};
      const keys = ['model', 'x', 'messages', 'Model', 'modelx', 'mOdel'];
      for (let j = rnd(4); j > 0; j--) o[keys[rnd(keys.length)]] = value(depth);
      return o;
    };
    for (let i = 0; i < 20000; i++) {
      let s = JSON.stringify(object(0), null, rnd(2) ? 1 : undefined);
      // Mutate half of them with a random piece at a random place.
      if (rnd(2)) {
        const at = rnd(s.length);
        s = s.slice(0, at) + pieces[rnd(pieces.length)] + s.slice(at + rnd(3));
      }
      if (!s.trimStart().startsWith('{')) continue; // callers scan only bodies that start like an object
      let parsed: unknown;
      let valid = true;
      try {
        parsed = JSON.parse(s);
      } catch {
        valid = false;
      }
      let scanned: string | undefined;
      let err: unknown;
      try {
        scanned = scanJsonBody(Buffer.from(s)).primary;
      } catch (e) {
        err = e;
      }
      // Stopping at the first top-level "model" records the same primary model as a full scan.
      expect([s, recordedPrimary(s, true)]).toEqual([s, recordedPrimary(s, false)]);
      if (err && !(err instanceof InvalidJsonBodyError)) continue; // a policy error stops the scan early
      expect([s, !err]).toEqual([s, valid]);
      if (valid) {
        const want = topLevelModel(parsed);
        // JSON.parse keeps the last duplicate; the scanner refuses duplicates, so those never reach here.
        expect(want.dup).toBe(false);
        expect([s, scanned]).toEqual([s, want.model]);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(500);
  });

  it('primaryOnly stops at the first top-level model and records what a full scan records', () => {
    const cases: Array<[string, string]> = [
      ['{"model":"a","model":"b"}', 'a'],
      ['{"model":null,"model":"b"}', ''],
      ['{"model":1,"x":2}', ''],
      ['{"x":[1,}],"model":"a"}', ''],
      ['{"x":{"model":"inner"},"MODEL":"a","y":nope}', 'a'],
      ['{"\\u006dodel":"esc","rest":[', 'esc'],
      ['{"messages":[],"model":"m"} trailing', 'm'],
    ];
    for (const [body, want] of cases) {
      expect([body, recordedPrimary(body, true)]).toEqual([body, want]);
      expect([body, recordedPrimary(body, false)]).toEqual([body, want]);
    }
    // It really stops: what follows the model is not read (a full scan refuses it).
    expect(scanJsonBody(Buffer.from('{"model":"a",!!!'), undefined, true).primary).toBe('a');
    expect(() => scanJsonBody(Buffer.from('{"model":"a",!!!'))).toThrow(InvalidJsonBodyError);
    // Invalid UTF-8 anywhere is still refused up front.
    const bad = Buffer.concat([Buffer.from('{"model":"a","x":"'), Buffer.from([0xff]), Buffer.from('"}')]);
    expect(() => scanJsonBody(bad, undefined, true)).toThrow(InvalidJsonBodyError);
  });
});

describe('JSON scanner: raw control bytes and escapes', () => {
  // Control bytes are found four at a time on aligned words: try every alignment of the body in memory and
  // every position of the bad byte, inside keys, values, skipped values and after escapes.
  const templates = [
    '{"model":"gpt-4.1@","messages":[{"role":"user","content":"hello there"}]}',
    '{"messages":[{"role":"user","content":"a\\"b\\\\c@d"}],"model":"m"}',
    '{"x@":1,"model":"gpt"}',
    '{"model":"gpt","t":["\\u00e9@"]}',
    '{\n  "model": "gpt",\n  "deep": {"a": [1, 2, {"b": "@"}]}\n}',
  ];
  const controls = [0x00, 0x01, 0x09, 0x0a, 0x0d, 0x1f];

  function scanAt(text: string, offset: number): string {
    const bytes = Buffer.from(text, 'utf8');
    const pool = Buffer.alloc(bytes.length + 8);
    bytes.copy(pool, offset);
    try {
      return scanJsonBody(pool.subarray(offset, offset + bytes.length)).primary;
    } catch (e) {
      return e instanceof InvalidJsonBodyError ? 'invalid' : String(e);
    }
  }

  it('refuses a raw control byte inside any string, at every alignment', () => {
    let checked = 0;
    for (const t of templates) {
      for (let offset = 0; offset < 4; offset++) {
        // The template itself is valid; pad the marker's string so the bad byte visits all word positions.
        for (let pad = 0; pad < 5; pad++) {
          const ok = t.replace('@', 'x'.repeat(pad));
          expect(scanAt(ok, offset)).toBe(JSON.parse(ok).model);
          for (const c of controls) {
            const bad = t.replace('@', 'x'.repeat(pad) + String.fromCharCode(c));
            expect([bad, offset, scanAt(bad, offset)]).toEqual([bad, offset, 'invalid']);
            checked++;
          }
        }
      }
    }
    expect(checked).toBe(templates.length * 4 * 5 * controls.length);
  });

  it('accepts whitespace control bytes between tokens, before and after strings', () => {
    const body = '\r\n{\t"model" :\n"gpt-5"\r,\n"a":\t["x",\n"y"\t]\n}\n';
    for (let offset = 0; offset < 4; offset++) expect(scanAt(body, offset)).toBe('gpt-5');
  });

  it('an escaped quote does not end a string; an escaped backslash before a quote does', () => {
    expect(scanAt('{"a":"\\"model\\":1","model":"m"}', 1)).toBe('m');
    expect(scanAt('{"a":"x\\\\","model":"m"}', 2)).toBe('m');
    expect(scanAt('{"a":"x\\\\"","model":"m"}', 3)).toBe('invalid');
    expect(scanAt('{"model":"a\\u00"}', 0)).toBe('invalid');
    expect(scanAt('{"model":"a\\x"}', 0)).toBe('invalid');
    expect(scanAt('{"model":"gpt\\u002d5"}', 0)).toBe('gpt-5');
    expect(scanAt('{"model":"unterminated', 0)).toBe('invalid');
  });
});

describe('firstControlByte', () => {
  it('finds the first byte below 0x20 in [from, to), at every offset, alignment and range', () => {
    const pool = Buffer.alloc(64 + 4, 0x41);
    let checked = 0;
    for (let offset = 0; offset < 4; offset++) {
      for (let len = 0; len <= 24; len++) {
        const b = pool.subarray(offset, offset + len);
        for (let ctl = -1; ctl < len; ctl++) {
          b.fill(0x41);
          if (ctl >= 0) b[ctl] = ctl % 2 ? 0x1f : 0x00;
          if (ctl + 1 < len) b[ctl + 1] = 0x20; // the smallest allowed byte right after
          for (let from = 0; from <= len; from++) {
            for (let to = from; to <= len; to++) {
              const want = ctl >= from && ctl < to ? ctl : to;
              expect([offset, len, ctl, from, to, firstControlByte(b, from, to)]).toEqual([
                offset,
                len,
                ctl,
                from,
                to,
                want,
              ]);
              checked++;
            }
          }
        }
      }
    }
    expect(checked).toBeGreaterThan(10_000);
  });
});
