// Extraction throughput: captures per second on one core (the extraction service is single-threaded per
// process), over a mix of the golden fixtures as the proxy would capture them: OpenAI chat JSON and SSE (with
// usage), a gzip-compressed JSON body, an Anthropic SSE stream and a Gemini SSE stream. Not a test.
import '../../apps/cli/src/aliases';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { ProviderDialect, UsageCapturedV1 } from '@spendops/contracts';
import { extractUsage } from '@spendops/usage';

const fixtures = join(__dirname, '..', '..', '..', 'libs', 'usage', 'src', 'extract');
const source = (dir: string, file: string) => {
  for (const base of [fixtures, join(__dirname, '..', '..', 'libs', 'usage', 'src', 'extract')]) {
    try {
      return readFileSync(join(base, dir, 'fixtures', file));
    } catch {
      // try the source tree layout next
    }
  }
  throw new Error(`fixture ${dir}/${file} not found`);
};

function capture(
  provider: string,
  dialect: ProviderDialect,
  endpoint: string,
  body: Buffer,
  stream: boolean,
  encoding = '',
): UsageCapturedV1 {
  const requestBody = Buffer.from(
    JSON.stringify({ model: 'gpt-4o-mini', stream, messages: [{ role: 'user', content: 'hi' }] }),
  );
  return {
    request_id: 'bench',
    tenant_id: 't',
    api_key_id: 'k',
    dims: { team: 'bench' },
    provider,
    dialect,
    method: 'POST',
    endpoint,
    request_model: '',
    stream,
    stream_usage_injected: stream && dialect === 'openai-compatible',
    outcome: 'completed',
    http_status: 200,
    started_at_ms: Date.now(),
    first_byte_at_ms: Date.now(),
    ended_at_ms: Date.now(),
    content_encoding: encoding,
    response_content_type: stream ? 'text/event-stream' : 'application/json',
    request_content_type: 'application/json',
    request_body: { head: requestBody.toString('base64'), total_bytes: requestBody.length, truncated: false },
    response_body: { head: body.toString('base64'), total_bytes: body.length, truncated: false },
    stream_complete: true,
  };
}

function main(): void {
  const chatJson = source('openai', 'openai_chat_cached.json');
  const mix: Array<[string, UsageCapturedV1]> = [
    ['openai chat JSON', capture('openai', 'openai-compatible', '/v1/chat/completions', chatJson, false)],
    [
      'openai chat JSON, gzip',
      capture('openai', 'openai-compatible', '/v1/chat/completions', gzipSync(chatJson), false, 'gzip'),
    ],
    [
      'openai chat SSE',
      capture(
        'openai',
        'openai-compatible',
        '/v1/chat/completions',
        source('openai', 'openai_chat_stream_usage.sse'),
        true,
      ),
    ],
    [
      'anthropic SSE',
      capture('anthropic', 'anthropic', '/v1/messages', source('anthropic', 'stream_cache_both.sse'), true),
    ],
    [
      'gemini SSE',
      capture(
        'google',
        'gemini',
        '/v1beta/models/gemini-2.5-flash:streamGenerateContent',
        source('gemini', 'stream.sse'),
        true,
      ),
    ],
  ];
  const seconds = Number(process.env.BENCH_SECONDS ?? 2);
  const lines: string[] = ['extraction throughput, one core (captures/s; median of 3 rounds):'];
  let total = 0;
  for (const [name, record] of mix) {
    if (extractUsage(record).usage_source !== 'provider')
      throw new Error(`${name}: fixture gives no provider usage`);
    const rounds: number[] = [];
    for (let r = 0; r < 3; r++) {
      let n = 0;
      const start = process.hrtime.bigint();
      const end = start + BigInt(seconds * 1e9) / 3n;
      while (process.hrtime.bigint() < end) {
        extractUsage(record);
        n++;
      }
      rounds.push(n / (Number(process.hrtime.bigint() - start) / 1e9));
    }
    rounds.sort((a, b) => a - b);
    total += 1 / rounds[1];
    lines.push(
      `  ${name.padEnd(24)} ${rounds[1].toFixed(0).padStart(8)}  (min ${rounds[0].toFixed(0)}, max ${rounds[2].toFixed(0)})`,
    );
  }
  lines.push(`  ${'even mix'.padEnd(24)} ${(mix.length / total).toFixed(0).padStart(8)}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

main();
