// openai-node through SpendOps: chat (plain, streamed with and without
// include_usage, tools), Responses (plain, streamed), embeddings, a 429.
// X-ASO-Dims is sent in its JSON form here (the Python drivers use k=v).
import OpenAI from 'openai';
import {
  DIRECT, KEY, PROMPT, PROXY, REPLY, WEATHER_PARAMS, Driver, check, checkSpread, dimsObject, firstDiff, now, pkgVersion,
} from './common.mjs';

const d = new Driver('openai-node', pkgVersion('openai'), 'openai-node');
const client = new OpenAI({
  apiKey: 'sk-compat-openai',
  baseURL: `${PROXY}/v1/openai/v1`,
  defaultHeaders: { 'X-ASO-API-Key': KEY, 'X-ASO-Dims': JSON.stringify(dimsObject(d.app)) },
  maxRetries: 0,
});
const direct = new OpenAI({ apiKey: 'sk-compat-openai', baseURL: `${DIRECT}/v1`, maxRetries: 0 });
const messages = [{ role: 'user', content: PROMPT }];
const tools = [{ type: 'function', function: { name: 'get_weather', description: 'Weather for a city', parameters: WEATHER_PARAMS } }];
const h = (ctx, where = 'proxy') => ({ headers: { 'X-Compat-Trace': ctx.trace(where) } });

await d.step('chat.plain', 'chat.completions.create().withResponse(); body equals direct', async (ctx) => {
  const { data, response } = await client.chat.completions.create({ model: 'gpt-4.1', messages }, h(ctx)).withResponse();
  ctx.call(response.headers.get('x-aso-request-id'));
  check(data.choices[0].message.content === REPLY, `content ${data.choices[0].message.content}`);
  const want = await direct.chat.completions.create({ model: 'gpt-4.1', messages }, h(ctx, 'direct'));
  const diff = firstDiff([data], [want]);
  check(!diff, 'completion differs from direct: ' + diff);
});

async function streamStep(ctx, extra) {
  const { data: stream, response } = await client.chat.completions
    .create({ model: 'gpt-4.1', messages, stream: true, ...extra }, h(ctx)).withResponse();
  ctx.call(response.headers.get('x-aso-request-id'));
  const got = [];
  const times = [];
  for await (const chunk of stream) {
    times.push(now());
    got.push(chunk);
  }
  const want = [];
  for await (const chunk of await direct.chat.completions.create({ model: 'gpt-4.1', messages, stream: true, ...extra }, h(ctx, 'direct'))) want.push(chunk);
  const diff = firstDiff(got, want);
  check(!diff, 'stream seen through SpendOps differs from the direct stream: ' + diff);
  const text = got.filter((c) => c.choices.length).map((c) => c.choices[0].delta.content ?? '').join('');
  check(text === REPLY, `streamed text ${text}`);
  checkSpread(times, 'chat stream');
  return got;
}

await d.step('chat.stream', 'stream: true without stream_options: chunk sequence equals direct; event has provider usage', async (ctx) => {
  const got = await streamStep(ctx, {});
  check(got.every((c) => !('usage' in c)), 'a chunk carries a usage field the client did not ask for');
});

await d.step('chat.stream_usage', 'stream: true with stream_options.include_usage: chunk sequence equals direct', async (ctx) => {
  const got = await streamStep(ctx, { stream_options: { include_usage: true } });
  const last = got[got.length - 1];
  check(last.choices.length === 0 && last.usage?.total_tokens > 0, 'last chunk is not the usage chunk');
});

await d.step('chat.tools', 'tool call, non-streamed and streamed (arguments reassembled from deltas)', async (ctx) => {
  const { data, response } = await client.chat.completions.create({ model: 'gpt-4.1', messages, tools }, h(ctx)).withResponse();
  ctx.call(response.headers.get('x-aso-request-id'));
  const tc = data.choices[0].message.tool_calls?.[0];
  check(tc?.function.name === 'get_weather' && JSON.parse(tc.function.arguments).city === 'Paris', `tool_calls ${JSON.stringify(tc)}`);
  const tr = ctx.trace('proxy-stream');
  const { data: stream, response: r2 } = await client.chat.completions
    .create({ model: 'gpt-4.1', messages, tools, stream: true }, { headers: { 'X-Compat-Trace': tr } }).withResponse();
  ctx.call(r2.headers.get('x-aso-request-id'), { trace: tr });
  let name = '';
  let args = '';
  for await (const chunk of stream) {
    for (const t of chunk.choices[0]?.delta?.tool_calls ?? []) {
      name += t.function?.name ?? '';
      args += t.function?.arguments ?? '';
    }
  }
  check(name === 'get_weather' && JSON.parse(args).city === 'Paris', `streamed tool call ${name} ${args}`);
});

await d.step('embeddings', 'embeddings.create (SDK default base64, decoded by the SDK); equals direct', async (ctx) => {
  const input = ['alpha', 'beta gamma'];
  const { data, response } = await client.embeddings.create({ model: 'text-embedding-3-small', input }, h(ctx)).withResponse();
  ctx.call(response.headers.get('x-aso-request-id'));
  check(data.data.length === 2 && data.data[0].embedding.length === 8, `embedding shape ${data.data.length}`);
  const want = await direct.embeddings.create({ model: 'text-embedding-3-small', input }, h(ctx, 'direct'));
  check(JSON.stringify(data.data) === JSON.stringify(want.data), 'vectors differ from direct');
});

await d.step('responses.plain', 'responses.create (reasoning tokens reported)', async (ctx) => {
  const { data, response } = await client.responses.create({ model: 'gpt-5-mini', input: PROMPT }, h(ctx)).withResponse();
  ctx.call(response.headers.get('x-aso-request-id'));
  check(data.output_text === REPLY, `output_text ${data.output_text}`);
  check(data.usage.output_tokens_details.reasoning_tokens > 0, 'reasoning tokens');
});

await d.step('responses.stream', 'responses.create({stream: true}): event sequence equals direct', async (ctx) => {
  const { data: stream, response } = await client.responses.create({ model: 'gpt-5-mini', input: PROMPT, stream: true }, h(ctx)).withResponse();
  ctx.call(response.headers.get('x-aso-request-id'));
  const got = [];
  const times = [];
  for await (const ev of stream) {
    times.push(now());
    got.push(ev);
  }
  const want = [];
  for await (const ev of await direct.responses.create({ model: 'gpt-5-mini', input: PROMPT, stream: true }, h(ctx, 'direct'))) want.push(ev);
  const diff = firstDiff(got, want);
  check(!diff, 'responses stream differs from direct: ' + diff);
  check(got[got.length - 1].type === 'response.completed', 'no response.completed');
  checkSpread(times, 'responses stream');
});

await d.step('error.429', "provider 429 surfaces as OpenAI.RateLimitError with the provider's error body", async (ctx) => {
  const tr = d.trace('error429');
  try {
    await client.chat.completions.create({ model: 'gpt-4.1', messages }, { headers: { 'X-Compat-Trace': tr } });
  } catch (e) {
    check(e instanceof OpenAI.RateLimitError, `got ${e?.constructor?.name}: ${e?.message}`);
    ctx.call(e.headers?.get('x-aso-request-id'), { trace: tr, outcome: 'error', status: 429, usage: 'any' });
    check(e.status === 429 && e.code === 'rate_limit_exceeded' && e.type === 'tokens', `status/code/type ${e.status}/${e.code}/${e.type}`);
    return;
  }
  check(false, 'no RateLimitError thrown');
});

d.finish();
