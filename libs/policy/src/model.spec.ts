// Port of the reference's internal/policy/model_test.go (every case): the model allow-list and each way around it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as zlib from 'node:zlib';
import type { KeyPolicy } from '@spendops/contracts';
import { MSG_MODEL_NOT_ALLOWED, MSG_PROVIDER_NOT_ALLOWED, MSG_UNCHECKABLE } from './denial';
import { MSG_DIMS_REQUIRED } from './dims';
import { type PolicyRequest, evaluate } from './evaluate';
import { withDefaults } from './policy-defaults';
import { matchModel, providerAllowed } from './providers';
import { requestModels } from './request-models';

const fixture = (name: string) => readFileSync(join(__dirname, 'fixtures', name));
const gz = (b: Buffer) => zlib.gzipSync(b);
const zl = (b: Buffer) => zlib.deflateSync(b);
const rawDeflate = (b: Buffer) => zlib.deflateRawSync(b);
const br = (b: Buffer) => zlib.brotliCompressSync(b);

function utf16(s: string, bom: boolean, be: boolean): Buffer {
  const le = Buffer.from(s, 'utf16le');
  const body = be ? Buffer.from(le).swap16() : le;
  const mark = Buffer.from(be ? [0xfe, 0xff] : [0xff, 0xfe]);
  return bom ? Buffer.concat([mark, body]) : body;
}
function utf32le(s: string): Buffer {
  const cps = [...s].map((c) => c.codePointAt(0)!);
  const out = Buffer.alloc(cps.length * 4);
  cps.forEach((cp, i) => out.writeUInt32LE(cp, i * 4));
  return out;
}

interface Part {
  name: string;
  value: string | Buffer;
  filename?: string;
  cte?: string;
}
/** Builds a multipart/form-data body the way Go's multipart.Writer does. */
function multipartBody(...parts: Part[]): [Buffer, string] {
  const boundary = 'a7c4e1f0b9d2835e6f1a0c4b7d9e2f31c5a8b0d3e6f9a2c4b7e0d1f3';
  const chunks: Buffer[] = [];
  parts.forEach((p, i) => {
    let head = (i === 0 ? '' : '\r\n') + `--${boundary}\r\n`;
    head +=
      `Content-Disposition: form-data; name="${p.name}"` +
      (p.filename ? `; filename="${p.filename}"` : '') +
      '\r\n';
    if (p.cte) head += `Content-Transfer-Encoding: ${p.cte}\r\n`;
    chunks.push(Buffer.from(head + '\r\n', 'latin1'), Buffer.from(p.value));
  });
  chunks.push(Buffer.from(`\r\n--${boundary}--\r\n`, 'latin1'));
  return [Buffer.concat(chunks), `multipart/form-data; boundary=${boundary}`];
}

const pol: KeyPolicy = withDefaults({
  models: [
    'openai:gpt-4.1-mini',
    'openai:whisper-1',
    'anthropic:claude-sonnet-4*',
    'google:gemini-2.5-flash*',
    'openrouter:openai/gpt-4.1-mini',
  ],
});
const json = 'application/json';
const allowed = Buffer.from('{"model":"gpt-4.1-mini","messages":[{"role":"user","content":"hi"}]}');
const blocked = Buffer.from('{"model":"gpt-5","messages":[{"role":"user","content":"hi"}]}');
const b = (s: string) => Buffer.from(s, 'utf8');
const audio = '\x00\x01RIFF'.repeat(1000);
const [mpAllowed, mpCT] = multipartBody(
  { name: 'file', value: audio, filename: 'a.wav' },
  { name: 'model', value: 'whisper-1' },
);
const [mpBlocked, mpCT2] = multipartBody(
  { name: 'file', value: audio, filename: 'a.wav' },
  { name: 'model', value: 'gpt-4o-transcribe' },
);
const [mpCase, mpCT3] = multipartBody({ name: 'Model', value: 'gpt-4o-transcribe' });
const [mpDup, mpCT4] = multipartBody(
  { name: 'model', value: 'whisper-1' },
  { name: 'model', value: 'gpt-4o-transcribe' },
);
const [mpB64, mpCT5] = multipartBody({ name: 'model', value: 'd2hpc3Blci0x', cte: 'base64' });
const [mpNoModel, mpCT6] = multipartBody({ name: 'file', value: audio, filename: 'a.wav' });
const [mpQP, mpCT7] = multipartBody({ name: 'model', value: 'gpt-=35', cte: 'quoted-printable' });
const bomb = gz(Buffer.alloc(4096));
const uncheck = MSG_UNCHECKABLE;

interface Case {
  name: string;
  prov?: string;
  method?: string;
  path?: string;
  query?: string;
  ct?: string;
  ctRepeated?: boolean;
  ce?: string;
  body?: Buffer;
  trunc?: boolean;
  maxDec?: number;
  status?: number;
  msg?: string;
  wantModel?: string;
}

const cases: Case[] = [
  { name: 'allowed', body: allowed, ct: json, wantModel: 'gpt-4.1-mini' },
  { name: 'blocked', body: blocked, ct: json, status: 403, msg: MSG_MODEL_NOT_ALLOWED, wantModel: 'gpt-5' },
  { name: 'no body (GET /v1/models)', method: 'GET', path: '/v1/models' },
  { name: 'no model field', body: b('{"input":"x"}'), ct: json },
  { name: 'null model is absent', body: b('{"model":null}') },
  { name: 'case and space in value', body: b('{"model":"  GPT-4.1-Mini "}'), wantModel: '  GPT-4.1-Mini ' },
  { name: 'text/plain carrying JSON', body: blocked, ct: 'text/plain', status: 403 },
  { name: 'no Content-Type', body: blocked, status: 403 },
  { name: 'octet-stream carrying JSON', body: blocked, ct: 'application/octet-stream', status: 403 },
  { name: 'leading whitespace', body: Buffer.concat([b('\r\n\t '), blocked]), status: 403 },
  { name: 'UTF-8 BOM', body: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), blocked]), status: 403 },
  { name: 'UTF-16LE no BOM', body: utf16(blocked.toString(), false, false), status: 403 },
  { name: 'UTF-16LE BOM', body: utf16(blocked.toString(), true, false), status: 403 },
  { name: 'UTF-16BE BOM', body: utf16(blocked.toString(), true, true), status: 403 },
  { name: 'UTF-16BE allowed', body: utf16(allowed.toString(), false, true), wantModel: 'gpt-4.1-mini' },
  { name: 'UTF-32LE', body: utf32le(blocked.toString()), status: 403 },
  { name: 'gzip blocked', body: gz(blocked), ce: 'gzip', status: 403 },
  { name: 'gzip allowed', body: gz(allowed), ce: 'gzip', wantModel: 'gpt-4.1-mini' },
  { name: 'x-gzip', body: gz(blocked), ce: 'x-gzip', status: 403 },
  { name: 'deflate zlib', body: zl(blocked), ce: 'deflate', status: 403 },
  { name: 'deflate raw', body: rawDeflate(blocked), ce: 'deflate', status: 403 },
  { name: 'br', body: br(blocked), ce: 'br', status: 403 },
  { name: 'br allowed', body: br(allowed), ce: 'br' },
  { name: 'zstd', body: fixture('blocked.json.zst'), ce: 'zstd', status: 403 },
  { name: 'zstd allowed', body: fixture('allowed.json.zst'), ce: 'ZSTD' },
  {
    name: 'corrupt zstd',
    body: b('not zstd at all'),
    ce: 'zstd',
    status: 400,
    msg: uncheck + 'invalid zstd data',
  },
  { name: 'gzip then br', body: br(gz(blocked)), ce: 'gzip, br', status: 403 },
  { name: 'two header lines', body: br(gz(allowed)), ce: 'gzip,br' },
  { name: 'identity ignored', body: gz(allowed), ce: 'identity, gzip' },
  {
    name: 'four layers',
    body: gz(gz(gz(gz(allowed)))),
    ce: 'gzip,gzip,gzip,gzip',
    status: 415,
    msg: uncheck + 'too many Content-Encoding layers',
  },
  {
    name: 'unknown encoding',
    body: blocked,
    ce: 'compress',
    status: 415,
    msg: uncheck + 'Content-Encoding "compress" is not supported',
  },
  { name: 'corrupt gzip', body: b('not gzip'), ce: 'gzip', status: 400, msg: uncheck + 'invalid gzip data' },
  {
    name: 'decompression cap',
    body: bomb,
    ce: 'gzip',
    maxDec: 1024,
    status: 413,
    msg: uncheck + 'body decompresses to more than 1024 bytes',
  },
  {
    name: 'decompression cap zstd',
    body: fixture('blocked.json.zst'),
    ce: 'zstd',
    maxDec: 16,
    status: 413,
    msg: uncheck + 'body decompresses to more than 16 bytes',
  },
  {
    name: 'duplicate model',
    body: b('{"model":"gpt-4.1-mini","model":"gpt-5"}'),
    status: 400,
    msg: uncheck + 'more than one "model" field',
  },
  {
    name: 'duplicate allowed twice',
    body: b('{"model":"gpt-4.1-mini","model":"gpt-4.1-mini"}'),
    status: 400,
  },
  { name: 'duplicate by case', body: b('{"model":"gpt-4.1-mini","Model":"gpt-5"}'), status: 400 },
  { name: 'upper-case key', body: b('{"MODEL":"gpt-5"}'), status: 403 },
  { name: 'kelvin-free fold', body: b('{"mOdEl":"gpt-5"}'), status: 403 },
  { name: 'long s folds to s', prov: 'openrouter', body: b('{"modelſ":["openai/gpt-5"]}'), status: 403 },
  { name: 'unicode escape key', body: b('{"\\u006dodel":"gpt-5"}'), status: 403 },
  { name: 'escaped duplicate', body: b('{"\\u006dodel":"gpt-4.1-mini","model":"gpt-5"}'), status: 400 },
  { name: 'spaced key is another key', body: b('{" model":"gpt-5","model":"gpt-4.1-mini"}') },
  { name: 'fullwidth key is another key', body: b('{"ｍodel":"gpt-5"}') },
  { name: 'escaped value', body: b('{"model":"gpt-\\u0035"}'), status: 403 },
  { name: 'number model', body: b('{"model":5}'), status: 400, msg: uncheck + '"model" is not a string' },
  { name: 'array model', body: b('{"model":["gpt-5"]}'), status: 400 },
  {
    name: 'NaN elsewhere',
    body: b('{"model":"gpt-4.1-mini","temperature":NaN}'),
    status: 400,
    msg: uncheck + 'invalid JSON body',
  },
  { name: 'truncated JSON', body: b('{"model":"gpt-4.1-mini","messages":['), status: 400 },
  { name: 'trailing garbage', body: b('{"model":"gpt-4.1-mini"}{"model":"gpt-5"}'), status: 400 },
  {
    name: 'invalid UTF-8 in string',
    body: Buffer.concat([b('{"model":"gpt-4.1-mini","x":"'), Buffer.from([0xff]), b('"}')]),
    status: 400,
  },
  {
    name: 'deeper than 1000 levels',
    body: b('{"model":"gpt-4.1-mini","x":' + '['.repeat(1001) + ']'.repeat(1001) + '}'),
    status: 400,
  },
  {
    name: '999 levels is fine',
    body: b('{"model":"gpt-4.1-mini","x":' + '['.repeat(999) + ']'.repeat(999) + '}'),
  },
  {
    name: 'body truncated by proxy',
    body: allowed,
    trunc: true,
    status: 413,
    msg: uncheck + 'body too large to inspect',
  },
  { name: 'nested model ignored', body: b('{"model":"gpt-4.1-mini","metadata":{"model":"gpt-5"}}') },
  {
    name: 'models list',
    prov: 'openrouter',
    body: b('{"model":"openai/gpt-4.1-mini","models":["openai/gpt-4.1-mini","anthropic/claude-opus-4"]}'),
    status: 403,
  },
  { name: 'models list allowed', prov: 'openrouter', body: b('{"models":["openai/gpt-4.1-mini"]}') },
  { name: 'models list non-string', prov: 'openrouter', body: b('{"models":[1]}'), status: 400 },
  {
    name: 'models not a list',
    prov: 'openrouter',
    body: b('{"models":"openai/gpt-5"}'),
    status: 400,
    msg: uncheck + '"model" is not a string',
  },
  { name: 'models null', prov: 'openrouter', body: b('{"models":null,"model":"openai/gpt-4.1-mini"}') },
  { name: 'fallbacks not a list', prov: 'openrouter', body: b('{"fallbacks":{"model":"x"}}'), status: 400 },
  {
    name: 'fallbacks objects',
    prov: 'openrouter',
    body: b('{"model":"openai/gpt-4.1-mini","fallbacks":[{"model":"openai/gpt-5"}]}'),
    status: 403,
  },
  { name: 'fallbacks strings', prov: 'openrouter', body: b('{"fallbacks":["openai/gpt-5"]}'), status: 403 },
  { name: 'anthropic allowed', prov: 'anthropic', body: b('{"model":"claude-sonnet-4-5","max_tokens":10}') },
  {
    name: 'anthropic batch',
    prov: 'anthropic',
    path: '/v1/messages/batches',
    body: b(
      '{"requests":[{"custom_id":"a","params":{"model":"claude-sonnet-4-5"}},{"custom_id":"b","params":{"model":"claude-opus-4-1"}}]}',
    ),
    status: 403,
  },
  {
    name: 'anthropic batch allowed',
    prov: 'anthropic',
    path: '/v1/messages/batches',
    body: b('{"requests":[{"custom_id":"a","params":{"model":"claude-sonnet-4-5"}}]}'),
  },
  {
    name: 'realtime client secret',
    path: '/v1/realtime/client_secrets',
    body: b('{"session":{"type":"realtime","model":"gpt-realtime"}}'),
    status: 403,
  },
  {
    name: 'eval run',
    path: '/v1/evals/e1/runs',
    body: b('{"data_source":{"type":"completions","model":"gpt-5"}}'),
    status: 403,
  },
  {
    name: 'eval run allowed',
    path: '/v1/evals/e1/runs',
    body: b('{"data_source":{"type":"completions","model":"gpt-4.1-mini"}}'),
  },
  {
    name: 'openai file batch',
    path: '/v1/batches',
    body: b('{"input_file_id":"file-1","endpoint":"/v1/chat/completions","completion_window":"24h"}'),
    status: 403,
    msg: uncheck + 'batch jobs read their models from an uploaded file',
  },
  {
    name: 'groq file batch trailing slash',
    prov: 'groq',
    path: '/openai/v1/batches/',
    body: b('{}'),
    status: 403,
    msg: uncheck + 'batch jobs read their models from an uploaded file',
  },
  {
    name: 'mistral batch',
    prov: 'mistral',
    path: '/v1/batch/jobs',
    body: b('{"model":"x"}'),
    status: 403,
    msg: uncheck + 'batch jobs read their models from an uploaded file',
  },
  { name: 'batch listing passes', method: 'GET', path: '/v1/batches' },
  { name: 'batch cancel passes', path: '/v1/batches/b1/cancel' },
  { name: 'multipart allowed', body: mpAllowed, ct: mpCT, wantModel: 'whisper-1' },
  { name: 'multipart blocked', body: mpBlocked, ct: mpCT2, status: 403 },
  { name: 'multipart field case', body: mpCase, ct: mpCT3, status: 403 },
  {
    name: 'multipart duplicate',
    body: mpDup,
    ct: mpCT4,
    status: 400,
    msg: uncheck + 'more than one "model" field',
  },
  { name: 'multipart base64 field', body: mpB64, ct: mpCT5, status: 400 },
  {
    name: 'multipart quoted-printable field is decoded',
    body: mpQP,
    ct: mpCT7,
    status: 403,
    wantModel: 'gpt-5',
  },
  { name: 'multipart without model', body: mpNoModel, ct: mpCT6 },
  {
    name: 'multipart malformed',
    body: b('garbage'),
    ct: mpCT,
    status: 400,
    msg: uncheck + 'malformed multipart body',
  },
  { name: 'multipart no boundary', body: mpAllowed, ct: 'multipart/form-data', status: 400 },
  { name: 'multipart gzip', body: gz(mpBlocked), ct: mpCT2, ce: 'gzip', status: 403 },
  { name: 'two Content-Types', body: mpAllowed, ct: mpCT, ctRepeated: true, status: 400 },
  { name: 'form body', body: b('model=gpt-5&x=1'), ct: 'application/x-www-form-urlencoded', status: 403 },
  {
    name: 'form body escaped',
    body: b('mod%65l=gpt%2D5'),
    ct: 'application/x-www-form-urlencoded',
    status: 403,
  },
  { name: 'query model', method: 'GET', path: '/v1/realtime', query: 'model=gpt-5', status: 403 },
  { name: 'query model allowed', method: 'GET', path: '/v1/realtime', query: 'model=gpt-4.1-mini' },
  {
    name: 'query duplicate',
    method: 'GET',
    path: '/v1/realtime',
    query: 'model=gpt-4.1-mini&Model=gpt-5',
    status: 400,
  },
  { name: 'query and body', query: 'model=gpt-5', body: allowed, status: 403 },
  { name: 'binary body passes', body: Buffer.from('\x89PNG\r\n\x1a\n\x00\x00', 'latin1'), ct: 'image/png' },

  // Gemini-native paths.
  {
    name: 'gemini allowed',
    prov: 'google',
    path: '/v1beta/models/gemini-2.5-flash:generateContent',
    body: b('{"contents":[]}'),
    wantModel: 'gemini-2.5-flash',
  },
  {
    name: 'gemini blocked',
    prov: 'google',
    path: '/v1beta/models/gemini-2.5-pro:generateContent',
    body: b('{"contents":[]}'),
    status: 403,
    wantModel: 'gemini-2.5-pro',
  },
  {
    name: 'gemini v1',
    prov: 'google',
    path: '/v1/models/gemini-2.5-pro:streamGenerateContent',
    query: 'alt=sse',
    status: 403,
  },
  {
    name: 'gemini alias',
    prov: 'google-ai-studio',
    path: '/v1beta/models/gemini-2.5-pro:generateContent',
    status: 403,
  },
  {
    name: 'gemini escaped colon',
    prov: 'google',
    path: '/v1beta/models/gemini-2.5-pro%3AgenerateContent',
    status: 403,
  },
  {
    name: 'gemini double escaped',
    prov: 'google',
    path: '/v1beta/models/gemini-2.5-pro%253AgenerateContent',
    status: 403,
  },
  {
    name: 'gemini escaped letters',
    prov: 'google',
    path: '/v1beta/%6Dodels/gemini-2.5-pro:generateContent',
    status: 403,
  },
  {
    name: 'gemini dot segments',
    prov: 'google',
    path: '/v1beta/models/x/../../models/gemini-2.5-pro:generateContent',
    status: 403,
  },
  {
    name: 'gemini double slash',
    prov: 'google',
    path: '/v1beta//models//gemini-2.5-pro:generateContent',
    status: 403,
  },
  {
    name: 'gemini tuned model',
    prov: 'google',
    path: '/v1beta/tunedModels/gemini-2.5-flash-x:generateContent',
    status: 403,
    wantModel: 'tunedModels/gemini-2.5-flash-x',
  },
  { name: 'gemini two colons', prov: 'google', path: '/v1beta/models/gemini-2.5-flash:x:generateContent' },
  {
    name: 'gemini vertex style',
    prov: 'google',
    path: '/v1/projects/p/locations/l/publishers/google/models/gemini-2.5-pro:generateContent',
    status: 403,
  },
  { name: 'gemini list', prov: 'google', method: 'GET', path: '/v1beta/models' },
  { name: 'gemini metadata', prov: 'google', method: 'GET', path: '/v1beta/models/gemini-2.5-pro' },
  {
    name: 'gemini bad escape',
    prov: 'google',
    path: '/v1beta/models/gemini%zz:generateContent',
    status: 400,
    msg: uncheck + 'malformed request path',
  },
  {
    name: 'gemini URL and body both checked',
    prov: 'google',
    path: '/v1beta/models/gemini-2.5-flash:generateContent',
    body: b('{"model":"models/gemini-2.5-pro"}'),
    status: 403,
  },
  {
    name: 'gemini openai-compat models/ prefix',
    prov: 'google',
    path: '/v1beta/openai/chat/completions',
    body: b('{"model":"models/gemini-2.5-flash"}'),
    wantModel: 'gemini-2.5-flash',
  },
  {
    name: 'gemini batch embed nested',
    prov: 'google',
    path: '/v1beta/models/gemini-2.5-flash-emb:batchEmbedContents',
    body: b('{"requests":[{"model":"models/text-embedding-004","content":{}}]}'),
    status: 403,
  },
  { name: 'openai path is not gemini', prov: 'openai', method: 'GET', path: '/v1/models/gpt-5:x' },
];

function toRequest(c: Case): PolicyRequest {
  return {
    provider: c.prov ?? 'openai',
    method: c.method ?? 'POST',
    path: c.path ?? '/v1/chat/completions',
    query: c.query,
    contentType: c.ct,
    contentTypeRepeated: c.ctRepeated,
    contentEncoding: c.ce,
    body: c.body ?? null,
    bodyTruncated: c.trunc,
    maxDecodedBytes: c.maxDec,
  };
}

describe('model policy (reference model_test.go TestModelPolicy)', () => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', (_n, c) => {
    const dec = evaluate(pol, toRequest(c));
    if (!c.status) {
      expect(dec.denial).toBeUndefined();
    } else {
      expect(dec.denial).toBeDefined();
      expect(dec.denial!.status).toBe(c.status);
      expect(dec.denial!.type).toBe('model_blocked');
      if (c.msg) expect(dec.denial!.message).toBe(c.msg);
      else if (c.status === 403) expect(dec.denial!.message).toBe(MSG_MODEL_NOT_ALLOWED);
    }
    if (c.wantModel) expect(dec.model).toBe(c.wantModel);
  });
});

describe('matchModel', () => {
  it.each<[string[], string, string, boolean]>([
    [['openai:gpt-4*'], 'openai', 'gpt-4.1', true],
    [['openai:gpt-4*'], 'openai', 'gpt-40', true], // prefix means prefix
    [['openai:gpt-4*'], 'openai', 'gpt-4', true],
    [['openai:gpt-4*'], 'openai', 'gpt-5', false],
    [['openai:gpt-4*'], 'openai', 'gpt-', false],
    [['openai:gpt-4*'], 'azure', 'gpt-4.1', false],
    [['openai:gpt-4.1'], 'openai', 'gpt-4.1', true],
    [['openai:gpt-4.1'], 'openai', 'gpt-4.1-mini', false],
    [['openai:gpt-4.1'], 'openai', 'GPT-4.1', true],
    [['openai:gpt-4.1'], 'openai', ' gpt-4.1\n', true],
    [['openai:GPT-4*'], 'openai', 'gpt-4o', true],
    [['*'], 'mistral', 'anything', true],
    [['openai:*'], 'openai', 'o3', true],
    [['openai:*'], 'anthropic', 'claude', false],
    [['anthropic:claude-sonnet-4*'], 'anthropic', 'claude-sonnet-4-5-20250929', true],
    [['anthropic:claude-sonnet-4*'], 'anthropic', 'claude-opus-4-1', false],
    [['google-ai-studio:gemini-2.5*'], 'google', 'gemini-2.5-pro', true],
    [['google:gemini-2.5*'], 'google-ai-studio', 'gemini-2.5-pro', true],
    [['openrouter:openai/gpt-4o*'], 'openrouter', 'openai/gpt-4o:online', true],
    [['openai:gpt-4.1', 'anthropic:claude*'], 'anthropic', 'claude-3', true],
    [['malformed'], 'openai', 'gpt-4.1', false],
    [[], 'openai', 'gpt-5', true],
  ])('%j %s %j → %s', (patterns, prov, model, want) => {
    expect(matchModel(patterns, prov, model)).toBe(want);
  });
});

describe('providerAllowed', () => {
  it.each<[string[], string, boolean]>([
    [[], 'openai', true],
    [['*'], 'zai', true],
    [['openai', 'anthropic'], 'anthropic', true],
    [['openai', 'anthropic'], 'google', false],
    [['google'], 'google-ai-studio', true],
    [['google-ai-studio'], 'google', true],
    [['OpenAI'], 'openai', true],
  ])('%j %s → %s', (list, prov, want) => {
    expect(providerAllowed(list, prov)).toBe(want);
  });
});

describe('unrestricted keys skip inspection', () => {
  it.each([[[] as string[]], [['*']], [['openai:*', 'anthropic:claude*']]])(
    'models %j never fail on bodies',
    (models) => {
      const dec = evaluate(withDefaults({ models }), {
        provider: 'openai',
        method: 'POST',
        path: '/v1/chat/completions',
        contentEncoding: 'compress',
        body: b('{"model":"gpt-5","model":"x"}'),
        bodyTruncated: true,
      });
      expect(dec.denial).toBeUndefined();
    },
  );
  it('still reports the model for the usage event', () => {
    const dec = evaluate(withDefaults({}), {
      provider: 'openai',
      path: '/v1/x',
      contentType: 'text/plain',
      body: b(' {"model":"gpt-5"}'),
    });
    expect(dec.model).toBe('gpt-5');
  });
  it('reports the model found before a syntax error', () => {
    const dec = evaluate(withDefaults({}), {
      provider: 'openai',
      path: '/v1/x',
      body: b('{"model":"gpt-5","t":NaN}'),
    });
    expect(dec).toEqual({ dims: {}, model: 'gpt-5' });
  });
  it('does not decompress for them', () => {
    const dec = evaluate(withDefaults({}), {
      provider: 'openai',
      path: '/v1/x',
      contentEncoding: 'gzip',
      body: gz(b('{"model":"gpt-5"}')),
    });
    expect(dec).toEqual({ dims: {}, model: '' });
  });
});

describe('requestModels (reference TestModelFromRequest)', () => {
  it('collects the URL and nested batch models in order', () => {
    const { found, denial } = requestModels(
      {
        provider: 'google',
        path: '/v1beta/models/gemini-2.5-flash:batchEmbedContents',
        query: 'key=SECRET',
        body: b('{"requests":[{"model":"models/text-embedding-004"},{"model":"models/text-embedding-005"}]}'),
      },
      true,
    );
    expect(denial).toBeUndefined();
    expect(found.all).toEqual(['gemini-2.5-flash', 'text-embedding-004', 'text-embedding-005']);
  });
  it('a non-string model cannot be checked', () => {
    const { denial } = requestModels({ provider: 'openai', path: '/v1/x', body: b('{"model":1}') }, true);
    expect(denial?.status).toBe(400);
  });
});

describe('evaluate order (reference TestEvaluateOrder)', () => {
  const p = withDefaults({ providers: ['openai'], models: ['openai:gpt-4.1'], dims_required: true });
  const base = (): PolicyRequest => ({
    provider: 'openai',
    method: 'POST',
    path: '/v1/chat/completions',
    dims: ['team=search'],
    body: b('{"model":"gpt-4.1"}'),
  });
  it('allowed', () => {
    expect(evaluate(p, base())).toEqual({ dims: { team: 'search' }, model: 'gpt-4.1' });
  });
  it('provider first, dims kept', () => {
    const dec = evaluate(p, { ...base(), provider: 'anthropic', body: b('{"model":"claude"}') });
    expect(dec.denial).toEqual({ type: 'provider_blocked', status: 403, message: MSG_PROVIDER_NOT_ALLOWED });
    expect(dec.dims).toEqual({ team: 'search' });
  });
  it('provider before bad dims', () => {
    expect(evaluate(p, { ...base(), provider: 'anthropic', dims: [] }).denial?.type).toBe('provider_blocked');
  });
  it('dims before model', () => {
    const dec = evaluate(p, { ...base(), dims: [], body: b('{"model":"gpt-5"}') });
    expect(dec.denial).toEqual({ type: 'dimension_validation', status: 400, message: MSG_DIMS_REQUIRED });
  });
  it('model last, dims kept', () => {
    const dec = evaluate(p, { ...base(), body: b('{"model":"gpt-5"}') });
    expect(dec.denial).toMatchObject({ type: 'model_blocked', status: 403 });
    expect(dec).toMatchObject({ dims: { team: 'search' }, model: 'gpt-5' });
  });
  it('zero policy allows all', () => {
    const zero: KeyPolicy = { ...withDefaults({}), providers: [], models: [] };
    expect(evaluate(zero, { ...base(), provider: 'zai', dims: [] }).denial).toBeUndefined();
  });
});

describe('custom dialect (reference TestCustomDialect)', () => {
  const p = withDefaults({ models: ['vertex:gemini-2.5-flash*'] });
  const path = (m: string) => `/v1/projects/p/locations/us/publishers/google/models/${m}:generateContent`;
  it('a gemini-dialect custom provider has its URL read', () => {
    expect(
      evaluate(p, { provider: 'vertex', dialect: 'gemini', path: path('gemini-2.5-pro') }).denial?.status,
    ).toBe(403);
    expect(
      evaluate(p, { provider: 'vertex', dialect: 'gemini', path: path('gemini-2.5-flash') }).denial,
    ).toBeUndefined();
  });
  it('without the dialect an unknown provider is openai-compatible', () => {
    expect(
      evaluate(p, { provider: 'vertex', path: '/v1/models/gemini-2.5-pro:generateContent' }).denial,
    ).toBeUndefined();
    expect(evaluate(p, { provider: 'vertex', method: 'POST', path: '/v1/batches' }).denial?.status).toBe(403);
  });
});

describe('example (reference example_test.go)', () => {
  it('evaluates a typical key', () => {
    const key = withDefaults({
      providers: ['openai'],
      models: ['openai:gpt-4.1*'],
      dims_required: true,
      dims_pinned: { 'cost-center': 'cc-42' },
    });
    const req: PolicyRequest = {
      provider: 'openai',
      method: 'POST',
      path: '/v1/chat/completions',
      contentType: 'application/json',
      dims: ['team=search,env=prod'],
      body: b('{"model":"gpt-4.1-mini","messages":[]}'),
    };
    expect(evaluate(key, req)).toEqual({
      dims: { 'cost-center': 'cc-42', env: 'prod', team: 'search' },
      model: 'gpt-4.1-mini',
    });
    const denied = evaluate(key, { ...req, body: b('{"model":"gpt-5","messages":[]}') }).denial;
    expect(denied).toEqual({
      status: 403,
      type: 'model_blocked',
      message: 'Model not allowed by API key policy',
    });
  });
});
