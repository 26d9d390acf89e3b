// @google/genai (Gemini API) through SpendOps: generateContent (plain,
// streamed, function call), embedContent, a 429.
import { GoogleGenAI, ApiError } from '@google/genai';
import {
  DIRECT, KEY, PROMPT, PROXY, REPLY, RUN, Driver, check, checkSpread, dimsHeader, dimsObject, firstDiff, headerOf, now, pkgVersion,
} from './common.mjs';

const d = new Driver('google-genai-node', pkgVersion('@google/genai'), 'google-genai-node');
const client = new GoogleGenAI({
  apiKey: 'AIza-compat-google',
  httpOptions: { baseUrl: `${PROXY}/v1/google`, headers: { 'X-ASO-API-Key': KEY, 'X-ASO-Dims': dimsHeader(d.app) } },
});
const direct = new GoogleGenAI({ apiKey: 'AIza-compat-google', httpOptions: { baseUrl: DIRECT } });
const model = 'gemini-2.5-flash';
const cfg = (trace, extra = {}) => ({ httpOptions: { headers: { 'X-Compat-Trace': trace } }, ...extra });
const rid = (r) => headerOf(r?.sdkHttpResponse?.headers, 'x-aso-request-id');
// strip drops what is not part of the provider's body.
const strip = (r) => {
  const { sdkHttpResponse, ...rest } = JSON.parse(JSON.stringify(r));
  return rest;
};

await d.step('generate.plain', 'models.generateContent; request id from sdkHttpResponse.headers; equals direct', async (ctx) => {
  const r = await client.models.generateContent({ model, contents: PROMPT, config: cfg(ctx.trace()) });
  ctx.call(rid(r));
  check(r.text === REPLY, `text ${r.text}`);
  check(r.usageMetadata?.promptTokenCount > 0, 'usageMetadata missing');
  const want = await direct.models.generateContent({ model, contents: PROMPT, config: cfg(ctx.trace('direct')) });
  const diff = firstDiff([strip(r)], [strip(want)]);
  check(!diff, 'response differs from direct: ' + diff);
});

await d.step('generate.stream', 'models.generateContentStream (alt=sse, CRLF-framed): chunks equal direct', async (ctx) => {
  const got = [];
  const times = [];
  let id;
  for await (const c of await client.models.generateContentStream({ model, contents: PROMPT, config: cfg(ctx.trace()) })) {
    times.push(now());
    id ??= rid(c);
    got.push(strip(c));
  }
  ctx.call(id);
  const want = [];
  for await (const c of await direct.models.generateContentStream({ model, contents: PROMPT, config: cfg(ctx.trace('direct')) })) want.push(strip(c));
  const diff = firstDiff(got, want);
  check(!diff, 'stream seen through SpendOps differs from the direct stream: ' + diff);
  const text = got.map((c) => c.candidates[0].content.parts[0].text ?? '').join('');
  check(text === REPLY, `streamed text ${text}`);
  checkSpread(times, 'gemini stream');
});

await d.step('generate.tools', 'function call', async (ctx) => {
  const tools = [{ functionDeclarations: [{ name: 'get_weather', description: 'Weather for a city', parametersJsonSchema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } }] }];
  const r = await client.models.generateContent({ model, contents: PROMPT, config: cfg(ctx.trace(), { tools }) });
  ctx.call(rid(r));
  const fc = r.functionCalls?.[0];
  check(fc?.name === 'get_weather' && fc.args?.city === 'Paris', `functionCalls ${JSON.stringify(r.functionCalls)}`);
});

await d.step('embed', 'models.embedContent (Gemini reports no usage: event must not claim provider usage)', async (ctx) => {
  const r = await client.models.embedContent({ model: 'gemini-embedding-001', contents: ['alpha', 'beta gamma'], config: cfg(ctx.trace()) });
  ctx.call(rid(r), { usage: 'not-provider' });
  check(r.embeddings?.length === 2 && r.embeddings[0].values.length === 8, `embeddings ${JSON.stringify(r.embeddings)?.slice(0, 200)}`);
});

await d.step('error.429', 'provider 429 surfaces as ApiError status 429 with RESOURCE_EXHAUSTED', async (ctx) => {
  const tr = d.trace('error429');
  // ApiError carries no response headers, so this call sends its own
  // X-ASO-Dims (per-request headers override the client's) with a unique app
  // value, and the event is found by that dimension.
  const app = `genai-node-429-${RUN}`;
  try {
    await client.models.generateContent({
      model, contents: PROMPT,
      config: { httpOptions: { headers: { 'X-Compat-Trace': tr, 'X-ASO-Dims': dimsHeader(app) } } },
    });
  } catch (e) {
    check(e instanceof ApiError && e.status === 429, `got ${e?.constructor?.name} ${e?.status}: ${e?.message}`);
    check(String(e.message).includes('RESOURCE_EXHAUSTED'), `message ${e.message}`);
    ctx.note('ApiError exposes no response headers; event looked up by dim.app');
    ctx.call(null, { trace: tr, outcome: 'error', status: 429, usage: 'any', dims: dimsObject(app), lookup: { 'dim.app': app } });
    return;
  }
  check(false, 'no ApiError thrown');
});

d.finish();
