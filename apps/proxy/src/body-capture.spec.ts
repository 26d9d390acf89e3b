import { BodyCapture } from './body-capture';

function feed(cap: number, body: Buffer, step: number): BodyCapture {
  const c = new BodyCapture(cap);
  for (let i = 0; i < body.length; i += step) c.add(body.subarray(i, i + step));
  return c;
}

describe('BodyCapture', () => {
  const body = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 251));

  it('keeps the whole body up to the cap', () => {
    for (const step of [1, 7, 1000]) {
      const r = feed(1000, body, step).result();
      expect(r).toEqual({ head: body.toString('base64'), total_bytes: 1000, truncated: false });
    }
  });

  it('keeps head and tail (cap/2 each) past the cap, whatever the chunking', () => {
    for (const step of [1, 3, 64, 333, 999, 1000]) {
      const r = feed(100, body, step).result();
      expect(r.truncated).toBe(true);
      expect(r.total_bytes).toBe(1000);
      expect(Buffer.from(r.head, 'base64').equals(body.subarray(0, 50))).toBe(true);
      expect(Buffer.from(r.tail ?? '', 'base64').equals(body.subarray(950))).toBe(true);
    }
  });

  it('records an empty body', () => {
    expect(new BodyCapture(10).result()).toEqual({ head: '', total_bytes: 0, truncated: false });
  });
});
