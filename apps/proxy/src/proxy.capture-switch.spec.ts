// captureEnabled: false (config `capture.enabled`, SPENDOPS_CAPTURE_ENABLED) forwards as usual and publishes no
// capture record; the bench uses it to measure what capture costs the proxy.
import { Harness, startHarness } from './testing/harness';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('capture switch', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  const chat = async (harness: Harness) => {
    const res = await harness.send('POST', '/v1/openai/v1/chat/completions', {
      body: '{"model":"gpt-4o-mini","messages":[]}',
      headers: { 'content-type': 'application/json' },
    });
    const text = await res.body.text();
    return { status: res.statusCode, text };
  };

  it('publishes one record per request by default', async () => {
    h = await startHarness({ body: { id: 'x', usage: { prompt_tokens: 1 } } });
    expect(await chat(h)).toEqual({ status: 200, text: '{"id":"x","usage":{"prompt_tokens":1}}' });
    await h.queue.waitForCaptures(1);
    expect(h.queue.captures).toHaveLength(1);
  });

  it('forwards the same answer and publishes nothing when capture is off', async () => {
    h = await startHarness({ body: { id: 'x', usage: { prompt_tokens: 1 } } }, { captureEnabled: false });
    expect(await chat(h)).toEqual({ status: 200, text: '{"id":"x","usage":{"prompt_tokens":1}}' });
    expect(await chat(h)).toEqual({ status: 200, text: '{"id":"x","usage":{"prompt_tokens":1}}' });
    await sleep(200);
    expect(h.queue.captures).toHaveLength(0);
  });
});
