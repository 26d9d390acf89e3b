import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { BrokenProxyMode, startBrokenProxy } from './broken-proxy';
import { ScriptedUpstream, startScriptedUpstream } from './server';

async function through(mode: BrokenProxyMode, target: string, path: string, trace: string, body: unknown) {
  const proxy = await startBrokenProxy({ target, mode });
  try {
    const res = await request(`${proxy.url}${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-compat-trace': trace,
        'x-aso-dims': 'team=a',
        authorization: 'Bearer sk',
      },
      body: JSON.stringify(body),
    });
    let reads = 0;
    const chunks: Buffer[] = [];
    for await (const c of res.body) {
      reads++;
      chunks.push(c as Buffer);
    }
    return { status: res.statusCode, headers: res.headers, text: Buffer.concat(chunks).toString(), reads };
  } finally {
    await proxy.close();
  }
}

describe('broken proxy', () => {
  let up: ScriptedUpstream;
  beforeAll(async () => {
    up = await startScriptedUpstream({ gapMs: 10 });
  });
  afterAll(() => up.close());
  const stream = { model: 'gpt-4.1', stream: true };

  it('forwards everything unchanged in mode none (byte-identical to a direct call)', async () => {
    const res = await through('none', up.url, '/v1/chat/completions', 'bp.none#p', stream);
    const direct = await request(`${up.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'x-compat-trace': 'bp.none#d' },
      body: JSON.stringify(stream),
    });
    expect(res.text).toBe(await direct.body.text());
    expect(res.reads).toBeGreaterThan(1);
    expect(up.log.find((e) => e.trace === 'bp.none#p')!.aso_headers).toEqual(['x-aso-dims']);
  });

  it('flip-byte changes exactly one byte of a stream', async () => {
    const res = await through('flip-byte', up.url, '/v1/chat/completions', 'bp.flip', stream);
    expect(res.text).toContain('" frOm"');
    expect(res.text.match(/frOm/g)).toHaveLength(1);
  });

  it('drop-dims removes X-ASO-Dims before it reaches the target', async () => {
    await through('drop-dims', up.url, '/v1/chat/completions', 'bp.dims', { model: 'gpt-4.1' });
    expect(up.log.find((e) => e.trace === 'bp.dims')!.aso_headers).toEqual([]);
  });

  it('leak-usage asks for include_usage on a stream that did not', async () => {
    const res = await through('leak-usage', up.url, '/v1/chat/completions', 'bp.leak', stream);
    expect(res.text).toContain('"usage":{');
    expect(up.log.find((e) => e.trace === 'bp.leak')!.include_usage).toBe(true);
  });

  it('buffer delivers a stream in one piece', async () => {
    const res = await through('buffer', up.url, '/v1/chat/completions', 'bp.buf', stream);
    expect(res.reads).toBe(1);
    expect(res.text).toContain('data: [DONE]');
  });

  it('rewrite-errors replaces a 429 body', async () => {
    const res = await through('rewrite-errors', up.url, '/v1/messages', 'bp.error429', { model: 'm' });
    expect(res.status).toBe(429);
    expect(res.text).toBe('{"error":"rate limited"}');
  });

  it('edits admin API event lists: skew-usage, drop-events, lose-one-event', async () => {
    const api = createServer((req, res) => {
      const rid = new URL(req.url!, 'http://x').searchParams.get('request_id');
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ events: [{ request_id: rid, prompt_tokens: 10 }] }));
    }).listen(0, '127.0.0.1');
    await once(api, 'listening');
    const target = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
    const get = async (mode: BrokenProxyMode, rids: string[]) => {
      const proxy = await startBrokenProxy({ target, mode });
      try {
        const out = [];
        for (const rid of rids) {
          const res = await request(`${proxy.url}/api/v1/events?request_id=${rid}`);
          out.push(((await res.body.json()) as { events: Array<{ prompt_tokens: number }> }).events);
        }
        return out;
      } finally {
        await proxy.close();
      }
    };
    try {
      expect((await get('skew-usage', ['a']))[0][0].prompt_tokens).toBe(11);
      expect(await get('drop-events', ['a'])).toEqual([[]]);
      const [a, b, a2] = await get('lose-one-event', ['a', 'b', 'a']);
      expect(a).toEqual([]);
      expect(b).toHaveLength(1);
      expect(a2).toEqual([]);
      expect((await get('none', ['a']))[0][0].prompt_tokens).toBe(10);
    } finally {
      api.close();
    }
  });
});
