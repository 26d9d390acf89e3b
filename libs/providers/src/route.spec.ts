import { ProviderRegistry } from './registry';
import { isSafeEndpoint, parseProxyPath, upstreamTarget, upstreamUrl } from './route';

const reg = new ProviderRegistry();

function route(clientPath: string): string {
  const r = parseProxyPath(clientPath);
  if (!r.ok) throw new Error(`route ${clientPath}: ${r.error}`);
  if (!isSafeEndpoint(r.endpoint)) throw new Error(`unsafe ${r.endpoint}`);
  const def = reg.resolve(r.provider);
  if (!def) throw new Error(`no provider ${r.provider}`);
  return upstreamUrl(def, r.endpoint, r.query);
}

describe('upstream URLs: every route, the alias and every documented SDK base URL', () => {
  const table: Array<[string, string]> = [
    // OpenAI SDK base .../v1/openai/v1
    ['/v1/openai/v1/chat/completions', 'https://api.openai.com/v1/chat/completions'],
    ['/v1/openai/v1/embeddings', 'https://api.openai.com/v1/embeddings'],
    ['/v1/openai/v1/models', 'https://api.openai.com/v1/models'],
    ['/v1/openai/v1/responses?stream=true', 'https://api.openai.com/v1/responses?stream=true'],
    ['/v1/openai/v1/files/file-abc/content', 'https://api.openai.com/v1/files/file-abc/content'],
    // Anthropic SDK base .../v1/anthropic
    ['/v1/anthropic/v1/messages', 'https://api.anthropic.com/v1/messages'],
    ['/v1/anthropic/v1/messages/count_tokens', 'https://api.anthropic.com/v1/messages/count_tokens'],
    ['/v1/anthropic/v1/messages?beta=true', 'https://api.anthropic.com/v1/messages?beta=true'],
    // Google SDK base .../v1/google, OpenAI SDK .../v1/google/v1beta/openai
    [
      '/v1/google/v1beta/models/gemini-2.0-flash:generateContent',
      'https://generativelanguage.googleapis.com/v1beta/models/gemini-2.0-flash:generateContent',
    ],
    [
      '/v1/google/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse&key=k',
      'https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse&key=k',
    ],
    [
      '/v1/google/v1beta/openai/chat/completions',
      'https://generativelanguage.googleapis.com/v1beta/openai/chat/completions',
    ],
    [
      '/v1/google-ai-studio/v1beta/models/gemini-2.0-flash:generateContent',
      'https://generativelanguage.googleapis.com/v1beta/models/gemini-2.0-flash:generateContent',
    ],
    [
      '/v1/google-ai-studio/v1beta/openai/chat/completions',
      'https://generativelanguage.googleapis.com/v1beta/openai/chat/completions',
    ],
    // OpenAI-compatible hosts: SDK base .../v1/{provider}/v1
    ['/v1/openrouter/v1/chat/completions', 'https://openrouter.ai/api/v1/chat/completions'],
    ['/v1/xai/v1/chat/completions', 'https://api.x.ai/v1/chat/completions'],
    ['/v1/groq/v1/chat/completions', 'https://api.groq.com/openai/v1/chat/completions'],
    ['/v1/deepseek/v1/chat/completions', 'https://api.deepseek.com/v1/chat/completions'],
    ['/v1/mistral/v1/chat/completions', 'https://api.mistral.ai/v1/chat/completions'],
    ['/v1/perplexity/v1/chat/completions', 'https://api.perplexity.ai/v1/chat/completions'],
    ['/v1/fireworks/v1/chat/completions', 'https://api.fireworks.ai/inference/v1/chat/completions'],
    ['/v1/cerebras/v1/chat/completions', 'https://api.cerebras.ai/v1/chat/completions'],
    ['/v1/nebius/v1/chat/completions', 'https://api.tokenfactory.nebius.com/v1/chat/completions'],
    // DeepInfra and Novita: the base already is the OpenAI root, so the SDK's /v1 is dropped.
    ['/v1/deepinfra/v1/chat/completions', 'https://api.deepinfra.com/v1/openai/chat/completions'],
    ['/v1/deepinfra/chat/completions', 'https://api.deepinfra.com/v1/openai/chat/completions'],
    ['/v1/deepinfra/v1/embeddings', 'https://api.deepinfra.com/v1/openai/embeddings'],
    ['/v1/novita/v1/chat/completions', 'https://api.novita.ai/v3/openai/chat/completions'],
    ['/v1/novita/chat/completions', 'https://api.novita.ai/v3/openai/chat/completions'],
    ['/v1/novita/v1models', 'https://api.novita.ai/v3/openai/v1models'], // only a whole segment is stripped
    ['/v1/novita/v1', 'https://api.novita.ai/v3/openai'],
    // z.ai SDK base .../v1/zai (no /v1)
    ['/v1/zai/chat/completions', 'https://api.z.ai/api/paas/v4/chat/completions'],
    // Escapes that are legitimate stay verbatim.
    ['/v1/openai/v1/files/a%20b', 'https://api.openai.com/v1/files/a%20b'],
    ['/v1/openai/v1/files/a%20b?x=%2F&y=1', 'https://api.openai.com/v1/files/a%20b?x=%2F&y=1'],
    ['/v1/openai', 'https://api.openai.com'],
    ['http://proxy.example/v1/openai/v1/models?a=b', 'https://api.openai.com/v1/models?a=b'], // absolute-form
  ];
  it.each(table.map(([clientPath, want]) => ({ clientPath, want })))(
    '$clientPath',
    ({ clientPath, want }) => {
      expect(route(clientPath)).toBe(want);
    },
  );

  it('sends "/" as the target when the endpoint is empty', () => {
    const def = reg.resolve('openai')!;
    expect(upstreamTarget(def, '', '')).toBe('/');
    expect(upstreamTarget(def, '', 'a=1')).toBe('/?a=1');
    expect(upstreamTarget(reg.resolve('groq')!, '/v1/models', '')).toBe('/openai/v1/models');
  });
});

describe('parseProxyPath', () => {
  const table: Array<[string, ReturnType<typeof parseProxyPath>]> = [
    ['/v1/openai/v1/x', { ok: true, provider: 'openai', endpoint: '/v1/x', query: '' }],
    ['/v1/openai', { ok: true, provider: 'openai', endpoint: '', query: '' }],
    ['/v1/openai?x=1', { ok: true, provider: 'openai', endpoint: '', query: 'x=1' }],
    ['/v1/openai/v1/x?a=1?b', { ok: true, provider: 'openai', endpoint: '/v1/x', query: 'a=1?b' }],
    ['/v1/', { ok: false, error: 'unknown_provider' }],
    ['/v1', { ok: false, error: 'unknown_provider' }],
    ['/v1?x', { ok: false, error: 'unknown_provider' }],
    ['/v2/openai/x', { ok: false, error: 'not_proxy_path' }],
    ['/', { ok: false, error: 'not_proxy_path' }],
    ['/v1x/openai', { ok: false, error: 'not_proxy_path' }],
  ];
  it.each(table.map(([path, want]) => ({ path, want })))('$path', ({ path, want }) => {
    expect(parseProxyPath(path)).toEqual(want);
  });
});

/** Path-escape attempts (the reference's table): each is rejected before anything is sent. */
export const ESCAPE_PATHS = [
  '/../x',
  '/v1/../../x',
  '/v1/..',
  '/./x',
  '/%2e%2e/x',
  '/%2E%2E/x',
  '/.%2e/x',
  '/%2e./x',
  '/v1%2f..%2fx',
  '/v1%2F..',
  '//evil.example/x',
  '/v1//x',
  '/@evil.example/x',
  '/v1@evil/x',
  '/v1\\..\\x',
  '/v1%5c..%5cx',
  '/v1/x%00',
  '/v1/\x00x',
  '/v1/%252e%252e/x',
  '/v1/x\r\nHost: evil',
  '/v1/%40evil',
  '/v1/\x7f',
  '/v1/caf\u00c3\u00a9',
  '/v1/café',
  '/v1/%zz',
  '/v1/%2',
  '/v1/%01x',
  '/v1/%7F',
  '/v1/.',
  '/v1/x#frag',
];

describe('isSafeEndpoint (path guard)', () => {
  it.each(ESCAPE_PATHS.map((p) => ({ p: JSON.stringify(p), raw: p })))('rejects $p', ({ raw }) => {
    expect(isSafeEndpoint(raw)).toBe(false);
  });
  const ok = [
    '',
    '/v1/chat/completions',
    '/v1beta/models/gemini-2.5-flash:streamGenerateContent',
    '/v1/files/file-1/content',
    '/v1/a%20b',
    '/v1/x.y/z..w',
    '/v1/caf%C3%A9',
    '/v1/x/',
    '/v1/...',
  ];
  it.each(ok.map((p) => ({ p })))('accepts $p', ({ p }) => {
    expect(isSafeEndpoint(p)).toBe(true);
  });

  it('never lets an accepted path change the host or leave the base path (fuzz)', () => {
    let seed = 7;
    const rand = (n: number): number => {
      // mulberry32: low bits usable, unlike a plain LCG's
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) % n;
    };
    const atoms = [
      '/',
      '.',
      '..',
      '%2e',
      '%2E',
      '%2f',
      '%5c',
      '%25',
      '%',
      '2',
      'e',
      '@',
      '\\',
      'v1',
      ':',
      '#',
      '%41',
      'é',
      '\x00',
      '%20',
    ];
    const names = ['openai', 'groq', 'deepinfra', 'zai', 'novita'];
    let accepted = 0;
    for (let round = 0; round < 20000; round++) {
      let rest = '/';
      for (let k = rand(8); k >= 0; k--) rest += atoms[rand(atoms.length)];
      if (!isSafeEndpoint(rest)) continue;
      accepted++;
      const def = reg.resolve(names[rand(names.length)])!;
      const url = new URL(upstreamUrl(def, rest, ''));
      expect(url.origin).toBe(def.origin);
      expect(url.pathname.startsWith(def.basePath)).toBe(true);
      // A URL parser would have resolved a dot segment or a backslash: the path must come out unchanged.
      const sent = upstreamUrl(def, rest, '').slice(def.origin.length) || '/';
      expect(url.pathname).toBe(sent);
      expect(url.pathname.split('/')).not.toContain('..');
    }
    expect(accepted).toBeGreaterThan(100);
  });
});
