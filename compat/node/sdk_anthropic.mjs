// @anthropic-ai/sdk through SpendOps: messages (plain, streamed with the
// messages.stream helper, tools), a 429.
import Anthropic from '@anthropic-ai/sdk';
import {
  DIRECT, KEY, PROMPT, PROXY, REPLY, WEATHER_PARAMS, Driver, check, checkSpread, dimsHeader, firstDiff, now, pkgVersion,
} from './common.mjs';

const d = new Driver('anthropic-node', pkgVersion('@anthropic-ai/sdk'), 'anthropic-node');
const client = new Anthropic({
  apiKey: 'sk-ant-compat',
  baseURL: `${PROXY}/v1/anthropic`,
  defaultHeaders: { 'X-ASO-API-Key': KEY, 'X-ASO-Dims': dimsHeader(d.app) },
  maxRetries: 0,
});
const direct = new Anthropic({ apiKey: 'sk-ant-compat', baseURL: DIRECT, maxRetries: 0 });
const model = 'claude-sonnet-4-6';
const messages = [{ role: 'user', content: PROMPT }];
const tools = [{ name: 'get_weather', description: 'Weather for a city', input_schema: WEATHER_PARAMS }];
const h = (ctx, where = 'proxy') => ({ headers: { 'X-Compat-Trace': ctx.trace(where) } });

await d.step('messages.plain', 'messages.create().withResponse(); body equals direct', async (ctx) => {
  const { data, response } = await client.messages.create({ model, max_tokens: 256, messages }, h(ctx)).withResponse();
  ctx.call(response.headers.get('x-aso-request-id'));
  check(data.content[0].text === REPLY, `text ${data.content[0].text}`);
  const want = await direct.messages.create({ model, max_tokens: 256, messages }, h(ctx, 'direct'));
  const diff = firstDiff([data], [want]);
  check(!diff, 'message differs from direct: ' + diff);
});

await d.step('messages.stream', 'messages.stream helper: event sequence equals direct, finalMessage usage intact', async (ctx) => {
  const s = client.messages.stream({ model, max_tokens: 256, messages }, h(ctx));
  const { response } = await s.withResponse();
  ctx.call(response.headers.get('x-aso-request-id'));
  const got = [];
  const times = [];
  for await (const ev of s) {
    times.push(now());
    got.push(ev);
  }
  const final = await s.finalMessage();
  const ds = direct.messages.stream({ model, max_tokens: 256, messages }, h(ctx, 'direct'));
  const want = [];
  for await (const ev of ds) want.push(ev);
  const wantFinal = await ds.finalMessage();
  const diff = firstDiff(got, want);
  check(!diff, 'stream seen through SpendOps differs from the direct stream: ' + diff);
  check(final.content[0].text === REPLY, `final text ${final.content[0].text}`);
  check(JSON.stringify(final.usage) === JSON.stringify(wantFinal.usage), 'final usage differs from direct');
  checkSpread(times, 'messages stream');
});

await d.step('messages.tools', 'tool_use block, non-streamed and streamed (input_json_delta reassembled)', async (ctx) => {
  const { data, response } = await client.messages.create({ model, max_tokens: 256, messages, tools }, h(ctx)).withResponse();
  ctx.call(response.headers.get('x-aso-request-id'));
  const use = data.content.find((b) => b.type === 'tool_use');
  check(data.stop_reason === 'tool_use' && use?.name === 'get_weather' && use.input.city === 'Paris', `content ${JSON.stringify(data.content)}`);
  const tr = ctx.trace('proxy-stream');
  const s = client.messages.stream({ model, max_tokens: 256, messages, tools }, { headers: { 'X-Compat-Trace': tr } });
  const { response: r2 } = await s.withResponse();
  ctx.call(r2.headers.get('x-aso-request-id'), { trace: tr });
  const final = await s.finalMessage();
  const suse = final.content.find((b) => b.type === 'tool_use');
  check(suse?.input?.city === 'Paris', `streamed tool_use ${JSON.stringify(final.content)}`);
});

await d.step('error.429', "provider 429 surfaces as Anthropic.RateLimitError with the provider's error body", async (ctx) => {
  const tr = d.trace('error429');
  try {
    await client.messages.create({ model, max_tokens: 256, messages }, { headers: { 'X-Compat-Trace': tr } });
  } catch (e) {
    check(e instanceof Anthropic.RateLimitError, `got ${e?.constructor?.name}: ${e?.message}`);
    ctx.call(e.headers?.get('x-aso-request-id'), { trace: tr, outcome: 'error', status: 429, usage: 'any' });
    check(e.status === 429 && e.error?.error?.type === 'rate_limit_error', `status/body ${e.status} ${JSON.stringify(e.error)}`);
    check(String(e.requestID ?? '').startsWith('req_'), `provider request id ${e.requestID}`);
    return;
  }
  check(false, 'no RateLimitError thrown');
});

d.finish();
