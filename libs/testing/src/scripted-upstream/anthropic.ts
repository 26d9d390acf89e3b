// Anthropic messages: plain, SSE message_start…message_stop with ping, tool_use with input_json_delta, and
// api.anthropic.com's headers and 429 body.
import { alnumId, hash32, hexId, REPLY_TEXT, REPLY_WORDS } from './ids';
import { asArray, asObject, asString, Exchange, Json, JsonObject } from './exchange';
import { expectedUsage, ServedOutcome } from './log';

const MODELS: Record<string, string> = {
  'claude-sonnet-4-5': 'claude-sonnet-4-5-20250929',
  'claude-haiku-4-5': 'claude-haiku-4-5-20251001',
  'claude-sonnet-4-0': 'claude-sonnet-4-20250514',
};

function anthropicHeaders(x: Exchange): void {
  const sd = x.seed;
  const headers: Record<string, string> = {
    'request-id': `req_011C${alnumId(sd, 'areq', 20)}`,
    'anthropic-organization-id': [
      hexId(sd, 'org', 8),
      hexId(sd, 'org2', 4),
      `4${hexId(sd, 'org3', 3)}`,
      `8${hexId(sd, 'org4', 3)}`,
      hexId(sd, 'org5', 12),
    ].join('-'),
  };
  for (const kind of ['input-tokens', 'output-tokens', 'requests', 'tokens']) {
    headers[`anthropic-ratelimit-${kind}-limit`] = '400000';
    headers[`anthropic-ratelimit-${kind}-remaining`] = '399000';
    headers[`anthropic-ratelimit-${kind}-reset`] = '2026-11-27T12:00:00Z';
  }
  x.setHeaders({
    ...headers,
    via: '1.1 google',
    'cf-cache-status': 'DYNAMIC',
    'x-robots-tag': 'none',
    server: 'cloudflare',
    'cf-ray': `${hexId(sd, 'aray', 16)}-CDG`,
  });
}

/** Usage from the seed. Anthropic's input_tokens excludes cache reads and writes, reported beside it. */
function anthropicUsage(seed: string, tools: boolean) {
  const h = hash32(seed);
  const input = 8 + (h % 30) + (tools ? 380 : 0); // tool definitions and the tool-use system prompt
  const cacheRead = (h & 1) * 2048;
  const cacheWrite = ((h >>> 1) & 1) * 1956;
  const output = REPLY_WORDS.length + 2 + ((h >>> 8) % 4);
  const usage = {
    input_tokens: input,
    cache_creation_input_tokens: cacheWrite,
    cache_read_input_tokens: cacheRead,
    cache_creation: { ephemeral_5m_input_tokens: cacheWrite, ephemeral_1h_input_tokens: 0 },
    output_tokens: output,
    service_tier: 'standard',
  };
  const prompt = input + cacheRead + cacheWrite;
  const expect = expectedUsage({
    prompt_tokens: prompt,
    completion_tokens: output,
    total_tokens: prompt + output,
    cache_read_tokens: cacheRead,
    cache_write_tokens: cacheWrite,
  });
  return { usage, expect };
}

export async function anthropicMessages(x: Exchange): Promise<ServedOutcome> {
  const sd = x.seed;
  const stream = x.body.stream === true;
  const base = { provider: 'anthropic' as const, stream };
  anthropicHeaders(x);
  if (sd.includes('error429')) {
    x.setHeaders({
      'retry-after': '17',
      'x-should-retry': 'true',
      'anthropic-ratelimit-input-tokens-remaining': '0',
    });
    x.json(429, {
      type: 'error',
      error: {
        type: 'rate_limit_error',
        message:
          'This request would exceed the rate limit for your organization (compat) of 30,000 input tokens per minute. For details, refer to: https://docs.claude.com/en/api/rate-limits. You can see the response headers for current usage. Please reduce the prompt length or the maximum tokens requested, or try again later. You may also contact sales at https://www.anthropic.com/contact-sales to discuss your options for a rate limit increase.',
      },
      request_id: String(x.res.getHeader('request-id')),
    });
    return { ...base, status: 429 };
  }
  const tool = asString(asObject(asArray(x.body.tools)[0]).name);
  const { usage, expect } = anthropicUsage(sd, tool !== '');
  const requested = asString(x.body.model);
  const model = MODELS[requested] ?? requested;
  const id = `msg_01${alnumId(sd, 'msg', 22)}`;
  const toolId = `toolu_01${alnumId(sd, 'toolu', 22)}`;
  const stopReason = tool ? 'tool_use' : 'end_turn';
  const content: Json[] = [{ type: 'text', text: REPLY_TEXT }];
  if (tool) content.push({ type: 'tool_use', id: toolId, name: tool, input: { city: 'Paris' } });
  const done = { ...base, status: 200, expect, usage_reported: true };
  if (!stream) {
    const gzipped = x.json(200, {
      id,
      type: 'message',
      role: 'assistant',
      model,
      content,
      stop_reason: stopReason,
      stop_sequence: null,
      usage,
    });
    return { ...done, gzipped };
  }

  const sse = x.stream('text/event-stream; charset=utf-8');
  const send = (type: string, fields: JsonObject) =>
    sse.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...fields })}\n\n`);
  await send('message_start', {
    message: {
      id,
      type: 'message',
      role: 'assistant',
      model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { ...usage, output_tokens: 1 }, // provisional; message_delta carries the cumulative count
    },
  });
  await send('content_block_start', { index: 0, content_block: { type: 'text', text: '' } });
  await send('ping', {});
  for (const text of REPLY_WORDS) {
    await send('content_block_delta', { index: 0, delta: { type: 'text_delta', text } });
  }
  if (!tool) sse.trailer();
  await send('content_block_stop', { index: 0 });
  if (tool) {
    await send('content_block_start', {
      index: 1,
      content_block: { type: 'tool_use', id: toolId, name: tool, input: {} },
    });
    for (const partial_json of ['', '{"city": ', '"Paris"}']) {
      await send('content_block_delta', { index: 1, delta: { type: 'input_json_delta', partial_json } });
    }
    sse.trailer();
    await send('content_block_stop', { index: 1 });
  }
  await send('message_delta', {
    delta: { stop_reason: stopReason, stop_sequence: null },
    usage: {
      input_tokens: usage.input_tokens,
      cache_creation_input_tokens: usage.cache_creation_input_tokens,
      cache_read_input_tokens: usage.cache_read_input_tokens,
      output_tokens: usage.output_tokens,
    },
  });
  await send('message_stop', {});
  sse.end();
  return done;
}
