// OpenAI: chat completions (plain, SSE with and without include_usage, tool calls), Responses (plain, SSE with
// event: lines and sequence_number), embeddings (float and base64), and api.openai.com's headers and 429 body.
import { alnumId, hash32, hexId, REPLY_TEXT, REPLY_WORDS, TOOL_ARG_PARTS, TOOL_ARGS, unitValue } from './ids';
import { asArray, asObject, asString, Exchange, Json, JsonObject } from './exchange';
import { expectedUsage, ServedOutcome } from './log';

/** Aliases clients send → the dated snapshot the API reports back. */
const SNAPSHOTS: Record<string, string> = {
  'gpt-4.1': 'gpt-4.1-2025-04-14',
  'gpt-4.1-mini': 'gpt-4.1-mini-2025-04-14',
  'gpt-4o': 'gpt-4o-2024-08-06',
  'gpt-4o-mini': 'gpt-4o-mini-2024-07-18',
  'gpt-5-mini': 'gpt-5-mini-2025-08-07',
};
const snapshot = (model: string) => SNAPSHOTS[model] ?? model;
const created = (seed: string) => 1764200000 + (hash32(seed) % 100000);

function openaiHeaders(x: Exchange): void {
  const sd = x.seed;
  x.setHeaders({
    'x-request-id': `req_${hexId(sd, 'reqid', 32)}`,
    'openai-organization': 'user-compat',
    'openai-project': `proj_${alnumId(sd, 'proj', 24)}`,
    'openai-processing-ms': '412',
    'openai-version': '2020-10-01',
    'x-envoy-upstream-service-time': '416',
    'x-ratelimit-limit-requests': '10000',
    'x-ratelimit-limit-tokens': '30000000',
    'x-ratelimit-remaining-requests': '9999',
    'x-ratelimit-remaining-tokens': '29999985',
    'x-ratelimit-reset-requests': '6ms',
    'x-ratelimit-reset-tokens': '0s',
    'strict-transport-security': 'max-age=31536000; includeSubDomains; preload',
    'x-content-type-options': 'nosniff',
    'cf-cache-status': 'DYNAMIC',
    server: 'cloudflare',
    'cf-ray': `${hexId(sd, 'ray', 16)}-CDG`,
    'alt-svc': 'h3=":443"; ma=86400',
  });
}

/** The 429 api.openai.com returns when a token budget is exhausted. */
function rateLimited(x: Exchange, model: string): ServedOutcome {
  x.setHeaders({
    'x-ratelimit-remaining-tokens': '0',
    'x-ratelimit-reset-tokens': '1.658s',
    'retry-after': '2',
    'x-should-retry': 'true',
  });
  x.json(429, {
    error: {
      message: `Rate limit reached for ${model} in organization org-compat on tokens per min (TPM): Limit 30000, Used 29817, Requested 1012. Please try again in 1.658s. Visit https://platform.openai.com/account/rate-limits to learn more.`,
      type: 'tokens',
      param: null,
      code: 'rate_limit_exceeded',
    },
  });
  return { provider: 'openai', status: 429 };
}

/** Chat usage from the seed: about half the seeds hit the prompt cache (1024-token prefixes). */
function chatUsage(seed: string, tools: boolean) {
  const h = hash32(seed);
  let prompt = 9 + (h % 40);
  if (tools) prompt += 57; // the tool schema counts as prompt
  const cached = h & 1 ? 1024 : 0;
  prompt += cached;
  const completion = REPLY_WORDS.length + 1 + ((h >>> 8) % 5);
  const usage: JsonObject = {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: cached, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: 0,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
  const expect = expectedUsage({
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    cache_read_tokens: cached,
  });
  return { usage, expect };
}

export async function openaiChat(x: Exchange): Promise<ServedOutcome> {
  const sd = x.seed;
  const stream = x.body.stream === true;
  const streamOptions = asObject(x.body.stream_options);
  const includeUsageSent = 'include_usage' in streamOptions ? streamOptions.include_usage === true : null;
  const base = { provider: 'openai' as const, stream, include_usage: includeUsageSent };
  openaiHeaders(x);
  const requested = asString(x.body.model);
  if (sd.includes('error429')) return { ...rateLimited(x, requested), ...base, status: 429 };

  const tool = asString(asObject(asObject(asArray(x.body.tools)[0]).function).name);
  const { usage, expect } = chatUsage(sd, tool !== '');
  const head = {
    id: `chatcmpl-${alnumId(sd, 'chatcmpl', 29)}`,
    object: stream ? 'chat.completion.chunk' : 'chat.completion',
    created: created(sd),
    model: snapshot(requested),
  };
  const fingerprint = `fp_${hexId(sd, 'fp', 10)}`;
  const callId = `call_${alnumId(sd, 'call', 24)}`;

  if (!stream) {
    const message: JsonObject = tool
      ? {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: callId, type: 'function', function: { name: tool, arguments: TOOL_ARGS } }],
          refusal: null,
          annotations: [],
        }
      : { role: 'assistant', content: REPLY_TEXT, refusal: null, annotations: [] };
    const gzipped = x.json(200, {
      ...head,
      choices: [{ index: 0, message, logprobs: null, finish_reason: tool ? 'tool_calls' : 'stop' }],
      usage,
      service_tier: 'default',
      system_fingerprint: fingerprint,
    });
    return { ...base, status: 200, gzipped, expect, usage_reported: true };
  }

  const includeUsage = includeUsageSent === true;
  const sse = x.stream('text/event-stream; charset=utf-8');
  let n = 0;
  const send = async (choices: Json[], usageValue: Json = null) => {
    const chunk: JsonObject = {
      ...head,
      service_tier: 'default',
      system_fingerprint: fingerprint,
      choices,
      // With include_usage every chunk carries "usage": null and one extra chunk before [DONE] the totals.
      usage: includeUsage ? usageValue : undefined,
      obfuscation: alnumId(sd, `obf${n}`, 1 + (hash32(`${sd}${n}`) % 12)),
    };
    n++;
    await sse.write(`data: ${JSON.stringify(chunk)}\n\n`);
  };
  const choice = (delta: JsonObject, finish: string | null = null): Json => ({
    index: 0,
    delta,
    logprobs: null,
    finish_reason: finish,
  });
  if (tool) {
    await send([
      choice({
        role: 'assistant',
        content: null,
        tool_calls: [{ index: 0, id: callId, type: 'function', function: { name: tool, arguments: '' } }],
        refusal: null,
      }),
    ]);
    for (const part of TOOL_ARG_PARTS) {
      await send([choice({ tool_calls: [{ index: 0, function: { arguments: part } }] })]);
    }
  } else {
    await send([choice({ role: 'assistant', content: '', refusal: null })]);
    for (const word of REPLY_WORDS) await send([choice({ content: word })]);
  }
  sse.trailer();
  await send([choice({}, tool ? 'tool_calls' : 'stop')]);
  if (includeUsage) await send([], usage);
  await sse.write('data: [DONE]\n\n');
  sse.end();
  return { ...base, status: 200, expect, usage_reported: includeUsage };
}

/** Responses usage; reasoning models (gpt-5*, o*) report reasoning tokens inside output_tokens. */
function responsesUsage(seed: string, model: string) {
  const h = hash32(seed);
  const cached = h & 2 ? 1024 : 0;
  const input = 11 + (h % 30) + cached;
  const reasoning = model.startsWith('gpt-5') || model.startsWith('o') ? 64 * (1 + ((h >>> 5) % 3)) : 0;
  const output = REPLY_WORDS.length + 1 + reasoning;
  const usage: JsonObject = {
    input_tokens: input,
    input_tokens_details: { cached_tokens: cached },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: reasoning },
    total_tokens: input + output,
  };
  const expect = expectedUsage({
    prompt_tokens: input,
    completion_tokens: output,
    total_tokens: input + output,
    cache_read_tokens: cached,
    reasoning_tokens: reasoning,
  });
  return { usage, expect };
}

export async function openaiResponses(x: Exchange): Promise<ServedOutcome> {
  const sd = x.seed;
  const stream = x.body.stream === true;
  const base = { provider: 'openai' as const, stream };
  openaiHeaders(x);
  const requested = asString(x.body.model);
  if (sd.includes('error429')) return { ...rateLimited(x, requested), ...base, status: 429 };

  const { usage, expect } = responsesUsage(sd, requested);
  const fn = asArray(x.body.tools)
    .map(asObject)
    .find((t) => t.type === 'function');
  const tool = fn ? asString(fn.name) : '';
  const id = `resp_${hexId(sd, 'resp', 48)}`;
  const msgId = `msg_${hexId(sd, 'msg', 48)}`;
  const text: JsonObject = { type: 'output_text', annotations: [], logprobs: [], text: REPLY_TEXT };
  const message: JsonObject = {
    id: msgId,
    type: 'message',
    status: 'completed',
    content: [text],
    role: 'assistant',
  };
  const output: JsonObject[] = [];
  if (expect.reasoning_tokens > 0) {
    output.push({ id: `rs_${hexId(sd, 'rs', 48)}`, type: 'reasoning', summary: [] });
  }
  if (tool) {
    output.push({
      id: `fc_${hexId(sd, 'fc', 48)}`,
      type: 'function_call',
      status: 'completed',
      arguments: TOOL_ARGS,
      call_id: `call_${alnumId(sd, 'call', 24)}`,
      name: tool,
    });
  } else {
    output.push(message);
  }
  const response = (status: string, out: Json[], u: Json): JsonObject => ({
    id,
    object: 'response',
    created_at: created(sd),
    status,
    background: false,
    error: null,
    incomplete_details: null,
    instructions: null,
    max_output_tokens: null,
    max_tool_calls: null,
    model: snapshot(requested),
    output: out,
    parallel_tool_calls: true,
    previous_response_id: null,
    prompt_cache_key: null,
    reasoning: { effort: 'medium', summary: null },
    safety_identifier: null,
    service_tier: 'default',
    store: true,
    temperature: 1.0,
    text: { format: { type: 'text' }, verbosity: 'medium' },
    tool_choice: 'auto',
    tools: [],
    top_logprobs: 0,
    top_p: 1.0,
    truncation: 'disabled',
    usage: u,
    user: null,
    metadata: {},
  });
  const done = { ...base, status: 200, expect, usage_reported: true };
  if (!stream) return { ...done, gzipped: x.json(200, response('completed', output, usage)) };

  const sse = x.stream('text/event-stream; charset=utf-8');
  let seq = 0;
  const send = async (type: string, fields: JsonObject) => {
    const event = { type, sequence_number: seq++, ...fields };
    await sse.write(`event: ${type}\ndata: ${JSON.stringify(event)}\n\n`);
  };
  await send('response.created', { response: response('in_progress', [], null) });
  await send('response.in_progress', { response: response('in_progress', [], null) });
  for (const [i, item] of output.entries()) {
    if (item.type === 'reasoning') {
      await send('response.output_item.added', { output_index: i, item });
      await send('response.output_item.done', { output_index: i, item });
    } else if (item.type === 'function_call') {
      await send('response.output_item.added', {
        output_index: i,
        item: { ...item, arguments: '', status: 'in_progress' },
      });
      for (const delta of TOOL_ARG_PARTS) {
        await send('response.function_call_arguments.delta', { item_id: item.id, output_index: i, delta });
      }
      sse.trailer();
      await send('response.function_call_arguments.done', {
        item_id: item.id,
        output_index: i,
        arguments: TOOL_ARGS,
      });
      await send('response.output_item.done', { output_index: i, item });
    } else {
      const at = { item_id: msgId, output_index: i, content_index: 0 };
      await send('response.output_item.added', {
        output_index: i,
        item: { id: msgId, type: 'message', status: 'in_progress', content: [], role: 'assistant' },
      });
      await send('response.content_part.added', { ...at, part: { ...text, text: '' } });
      for (const [k, delta] of REPLY_WORDS.entries()) {
        await send('response.output_text.delta', {
          ...at,
          delta,
          logprobs: [],
          obfuscation: alnumId(sd, `robf${k}`, 4 + (k % 6)),
        });
      }
      sse.trailer();
      await send('response.output_text.done', { ...at, text: REPLY_TEXT, logprobs: [] });
      await send('response.content_part.done', { ...at, part: text });
      await send('response.output_item.done', { output_index: i, item: message });
    }
  }
  await send('response.completed', { response: response('completed', output, usage) });
  sse.end();
  return done;
}

export async function openaiEmbeddings(x: Exchange): Promise<ServedOutcome> {
  const sd = x.seed;
  openaiHeaders(x);
  const model = asString(x.body.model);
  x.setHeaders({ 'openai-model': model });
  if (sd.includes('error429')) return rateLimited(x, model);
  const input = x.body.input;
  const inputs = typeof input === 'string' ? [input] : asArray(input).map(asString);
  const dims = typeof x.body.dimensions === 'number' && x.body.dimensions > 0 ? x.body.dimensions : 8;
  let tokens = 0;
  const data = inputs.map((text, index): Json => {
    // Roughly one token per four characters, at least one.
    tokens += Math.max(1, Math.floor(([...text].length + 3) / 4));
    const vector = Array.from({ length: dims }, (_, j) => Math.fround(unitValue(`${sd}|${text}|${j}`)));
    let embedding: Json = vector.map((v) => Number(v.toPrecision(7)));
    if (x.body.encoding_format === 'base64') {
      const bytes = Buffer.alloc(4 * vector.length);
      vector.forEach((v, j) => bytes.writeFloatLE(v, 4 * j));
      embedding = bytes.toString('base64');
    }
    return { object: 'embedding', index, embedding };
  });
  const gzipped = x.json(200, {
    object: 'list',
    data,
    model,
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  });
  const expect = expectedUsage({ prompt_tokens: tokens, total_tokens: tokens });
  return { provider: 'openai', status: 200, gzipped, expect, usage_reported: true };
}
