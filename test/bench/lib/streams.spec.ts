// The stream client and the mock upstream together, over real loopback HTTP.
import { Agent } from 'undici';
import { chatBody, post } from './endpoint';
import { MockUpstream, parseMockModel, parseStamp, startMockUpstream, stampChunk } from './mock-upstream';
import { classifyLine, holdStreams, runStreams } from './streams';

describe('mock upstream and stream client', () => {
  let mock: MockUpstream;
  const agent = new Agent({ connections: 100 });
  beforeAll(async () => {
    mock = await startMockUpstream();
  });
  afterAll(async () => {
    await agent.close();
    await mock.close();
  });
  const ep = () => ({
    base: mock.url,
    path: '/v1/chat/completions',
    headers: { 'content-type': 'application/json' },
  });

  it('reads options from the model suffix', () => {
    expect(parseMockModel('gpt-4o-mini@chunks=100,delay_ms=20')).toEqual({
      model: 'gpt-4o-mini',
      options: { chunks: 100, delayMs: 20, hold: false, bytes: 0 },
    });
    expect(parseMockModel('gpt-4o-mini').options).toEqual({ chunks: 5, delayMs: 0, hold: false, bytes: 0 });
    expect(parseMockModel('m@hold=1,bytes=10').options).toMatchObject({ hold: true, bytes: 10 });
  });

  it('stamps chunks and classifies the SSE lines', () => {
    const line = stampChunk('m', 123456789n).split('\n')[0];
    expect(parseStamp(line)).toBe(123456789n);
    expect(classifyLine(line)).toBe('chunk');
    expect(classifyLine('data: {"choices":[],"usage":{"total_tokens":3}}')).toBe('usage');
    expect(classifyLine('data: [DONE]')).toBe('done');
    expect(classifyLine(': keep-alive')).toBe('other');
  });

  it('answers a small JSON completion with usage', async () => {
    const r = await post(agent, ep(), chatBody('gpt-4o-mini', false), undefined, true);
    expect(JSON.parse(r.body)).toMatchObject({ usage: { total_tokens: 262 } });
  });

  it('counts every chunk, usage chunk and completed stream, with each chunk delay from its stamp', async () => {
    const r = await runStreams(agent, ep(), {
      streams: 4,
      chunks: 6,
      delayMs: 5,
      rampMs: 20,
      timeoutMs: 5_000,
    });
    expect(r).toMatchObject({ completed: 4, chunks: 24, expected: 24, usage: 4, firstError: '' });
    expect(r.chunkDelay.totalCount).toBe(24);
    expect(r.ttfb.totalCount).toBe(4);
  });

  it('reports a stream that cannot connect as failed, with its error', async () => {
    const r = await runStreams(
      agent,
      { ...ep(), base: 'http://127.0.0.1:1' },
      { streams: 1, chunks: 1, delayMs: 0, rampMs: 0, timeoutMs: 1_000 },
    );
    expect(r.completed).toBe(0);
    expect(r.firstError).not.toBe('');
  });

  it('holds streams open until released, and the mock sees the clients leave', async () => {
    // Timers of 5 s and more started meanwhile (holdStreams' deadlines) that neither fired nor were cleared.
    const pending = new Set<NodeJS.Timeout>();
    const realSet = global.setTimeout;
    const realClear = global.clearTimeout;
    const set = jest.spyOn(global, 'setTimeout').mockImplementation(((
      fn: (...args: unknown[]) => void,
      ms?: number,
      ...args: unknown[]
    ) => {
      const t: NodeJS.Timeout = realSet(() => {
        pending.delete(t);
        fn(...args);
      }, ms);
      if ((ms ?? 0) >= 5_000) pending.add(t);
      return t;
    }) as typeof setTimeout);
    const clear = jest.spyOn(global, 'clearTimeout').mockImplementation((t) => {
      pending.delete(t as NodeJS.Timeout);
      realClear(t);
    });
    try {
      const held = await holdStreams(agent, ep(), 20, 10);
      expect(held.opened).toBe(20);
      expect(mock.openStreams()).toBe(20);
      await held.release();
      // A deadline left pending kept jest up ~30 s after this spec.
      expect(pending.size).toBe(0);
    } finally {
      set.mockRestore();
      clear.mockRestore();
    }
    for (let i = 0; i < 50 && mock.openStreams() > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(mock.openStreams()).toBe(0);
  });

  it('writes a large body of exactly the asked size', async () => {
    const r = await post(agent, ep(), chatBody('gpt-4o-mini@bytes=3000000', false), undefined, true);
    expect(Buffer.byteLength(r.body)).toBe(3_000_000);
    expect(JSON.parse(r.body)).toMatchObject({ usage: { total_tokens: 262 } });
  });
});
