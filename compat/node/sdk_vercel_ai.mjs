// Vercel AI SDK (`ai` with @ai-sdk/openai and @ai-sdk/anthropic) through
// SpendOps: generateText / streamText (chat completions and Responses), tool
// calls, embedMany, and provider 429s as APICallError.
import { APICallError, embedMany, generateText, jsonSchema, streamText, tool } from 'ai';
import { createAnthropic } from '@ai-sdk/anthropic';
import { createOpenAI } from '@ai-sdk/openai';
import {
  KEY, PROMPT, PROXY, REPLY, WEATHER_PARAMS, Driver, check, checkSpread, dimsHeader, headerOf, now, pkgVersion,
} from './common.mjs';

const d = new Driver('vercel-ai', `ai ${pkgVersion('ai')}, @ai-sdk/openai ${pkgVersion('@ai-sdk/openai')}, @ai-sdk/anthropic ${pkgVersion('@ai-sdk/anthropic')}`, 'vercel-ai');
const aso = { 'X-ASO-API-Key': KEY, 'X-ASO-Dims': dimsHeader(d.app) };
const openai = createOpenAI({ apiKey: 'sk-compat-openai', baseURL: `${PROXY}/v1/openai/v1`, headers: aso });
// @ai-sdk/anthropic's default base URL is https://api.anthropic.com/v1, so
// the SpendOps equivalent keeps the /v1.
const anthropic = createAnthropic({ apiKey: 'sk-ant-compat', baseURL: `${PROXY}/v1/anthropic/v1`, headers: aso });
const weather = tool({ description: 'Weather for a city', inputSchema: jsonSchema(WEATHER_PARAMS) });
const h = (ctx, where = 'proxy') => ({ 'X-Compat-Trace': ctx.trace(where) });
const rid = (resp) => headerOf(resp?.headers, 'x-aso-request-id');

await d.step('openai.chat.generateText', "generateText(openai.chat('gpt-4.1')); request id from result.response.headers", async (ctx) => {
  const r = await generateText({ model: openai.chat('gpt-4.1'), prompt: PROMPT, headers: h(ctx), maxRetries: 0 });
  ctx.call(rid(r.response));
  check(r.text === REPLY, `text ${r.text}`);
  check(r.usage.inputTokens > 0 && r.usage.outputTokens > 0, `usage ${JSON.stringify(r.usage)}`);
});

await d.step('openai.chat.streamText', "streamText(openai.chat('gpt-4.1')) (the AI SDK asks for include_usage itself)", async (ctx) => {
  const res = streamText({ model: openai.chat('gpt-4.1'), prompt: PROMPT, headers: h(ctx), maxRetries: 0 });
  const times = [];
  let text = '';
  for await (const t of res.textStream) {
    times.push(now());
    text += t;
  }
  ctx.call(rid(await res.response));
  check(text === REPLY, `streamed text ${text}`);
  const u = await res.usage;
  check(u.inputTokens > 0 && u.outputTokens > 0, `usage ${JSON.stringify(u)}`);
  checkSpread(times, 'streamText');
});

await d.step('openai.responses.streamText', "streamText(openai('gpt-5-mini')) — the provider's default Responses API", async (ctx) => {
  const res = streamText({ model: openai('gpt-5-mini'), prompt: PROMPT, headers: h(ctx), maxRetries: 0 });
  let text = '';
  for await (const t of res.textStream) text += t;
  ctx.call(rid(await res.response));
  check(text === REPLY, `streamed text ${text}`);
  const u = await res.usage;
  check(u.outputTokenDetails?.reasoningTokens > 0 || u.reasoningTokens > 0, `reasoning usage ${JSON.stringify(u)}`);
});

await d.step('openai.tools', 'generateText with a tool (no execute): toolCalls parsed', async (ctx) => {
  const r = await generateText({ model: openai.chat('gpt-4.1'), prompt: PROMPT, tools: { get_weather: weather }, headers: h(ctx), maxRetries: 0 });
  ctx.call(rid(r.response));
  const tc = r.toolCalls[0];
  check(tc?.toolName === 'get_weather' && tc.input?.city === 'Paris', `toolCalls ${JSON.stringify(r.toolCalls)}`);
});

await d.step('openai.embedMany', "embedMany(openai.embedding('text-embedding-3-small'))", async (ctx) => {
  const r = await embedMany({ model: openai.embedding('text-embedding-3-small'), values: ['alpha', 'beta gamma'], headers: h(ctx), maxRetries: 0 });
  ctx.call(rid(r.responses?.[0]));
  check(r.embeddings.length === 2 && r.embeddings[0].length === 8, `embeddings ${r.embeddings.length}`);
  check(r.usage.tokens > 0, `usage ${JSON.stringify(r.usage)}`);
});

await d.step('anthropic.generateText', "generateText(anthropic('claude-sonnet-4-6'))", async (ctx) => {
  const r = await generateText({ model: anthropic('claude-sonnet-4-6'), prompt: PROMPT, headers: h(ctx), maxRetries: 0 });
  ctx.call(rid(r.response));
  check(r.text === REPLY, `text ${r.text}`);
});

await d.step('anthropic.streamText', "streamText(anthropic('claude-sonnet-4-6'))", async (ctx) => {
  const res = streamText({ model: anthropic('claude-sonnet-4-6'), prompt: PROMPT, headers: h(ctx), maxRetries: 0 });
  const times = [];
  let text = '';
  for await (const t of res.textStream) {
    times.push(now());
    text += t;
  }
  ctx.call(rid(await res.response));
  check(text === REPLY, `streamed text ${text}`);
  checkSpread(times, 'anthropic streamText');
});

await d.step('anthropic.tools', 'generateText with a tool on Anthropic: toolCalls parsed', async (ctx) => {
  const r = await generateText({ model: anthropic('claude-sonnet-4-6'), prompt: PROMPT, tools: { get_weather: weather }, headers: h(ctx), maxRetries: 0 });
  ctx.call(rid(r.response));
  const tc = r.toolCalls[0];
  check(tc?.toolName === 'get_weather' && tc.input?.city === 'Paris', `toolCalls ${JSON.stringify(r.toolCalls)}`);
});

for (const [name, model] of [['openai', openai.chat('gpt-4.1')], ['anthropic', anthropic('claude-sonnet-4-6')]]) {
  await d.step(`${name}.error.429`, 'provider 429 surfaces as APICallError with the provider body and headers', async (ctx) => {
    const tr = d.trace(`${name}.error429`);
    try {
      await generateText({ model, prompt: PROMPT, headers: { 'X-Compat-Trace': tr }, maxRetries: 0 });
    } catch (e) {
      check(APICallError.isInstance(e), `got ${e?.constructor?.name}: ${e?.message}`);
      ctx.call(headerOf(e.responseHeaders, 'x-aso-request-id'), { trace: tr, outcome: 'error', status: 429, usage: 'any' });
      check(e.statusCode === 429 && /rate_limit/.test(e.responseBody ?? ''), `status/body ${e.statusCode} ${e.responseBody?.slice(0, 200)}`);
      return;
    }
    check(false, 'no APICallError thrown');
  });
}

d.finish();
