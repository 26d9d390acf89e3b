import { BUILTIN_PROVIDERS } from './definitions';
import { ProviderConfigError, ProviderRegistry } from './registry';

describe('ProviderRegistry', () => {
  it('has the 15 built-in providers and the google-ai-studio alias', () => {
    const reg = new ProviderRegistry();
    expect(reg.names()).toHaveLength(15);
    expect(reg.names()).toEqual([...BUILTIN_PROVIDERS.map((d) => d.name)].sort());
    expect(reg.resolve('google-ai-studio')).toBe(reg.resolve('google'));
    expect(reg.resolve('nosuch')).toBeUndefined();
    expect(reg.resolve('')).toBeUndefined();
  });

  it('carries dialect, injection and strip prefix per the providers table', () => {
    const reg = new ProviderRegistry();
    const inject = reg.names().filter((n) => reg.resolve(n)?.injectStreamUsage);
    expect(inject.sort()).toEqual(
      [
        'cerebras',
        'deepseek',
        'google',
        'groq',
        'nebius',
        'novita',
        'openai',
        'perplexity',
        'xai',
        'zai',
      ].sort(),
    );
    expect(reg.resolve('anthropic')?.dialect).toBe('anthropic');
    expect(reg.resolve('google')?.dialect).toBe('gemini');
    expect(reg.resolve('groq')?.dialect).toBe('openai-compatible');
    expect(reg.resolve('deepinfra')?.stripPrefix).toBe('/v1');
    expect(reg.resolve('novita')?.stripPrefix).toBe('/v1');
    expect(reg.resolve('openai')?.stripPrefix).toBe('');
    expect(reg.resolve('zai')).toMatchObject({ origin: 'https://api.z.ai', basePath: '/api/paas/v4' });
  });

  it('applies base-URL overrides by name or alias, keeping the rest', () => {
    const reg = new ProviderRegistry({
      upstreams: { openai: 'http://127.0.0.1:9999/base/', 'google-ai-studio': 'http://localhost:1' },
    });
    expect(reg.resolve('openai')).toMatchObject({
      origin: 'http://127.0.0.1:9999',
      basePath: '/base',
      dialect: 'openai-compatible',
      injectStreamUsage: true,
    });
    expect(reg.resolve('google')).toMatchObject({
      origin: 'http://localhost:1',
      basePath: '',
      dialect: 'gemini',
    });
  });

  it('adds user-defined providers and lets a definition with a built-in name replace only what it sets', () => {
    const reg = new ProviderRegistry({
      custom: [
        { name: 'azure-east', base_url: 'https://x.openai.azure.com/openai', inject_stream_usage: true },
        { name: 'ollama', base_url: 'http://127.0.0.1:11434', dialect: 'openai-compatible' },
        { name: 'anthropic', inject_stream_usage: false, base_url: 'https://eu.anthropic.example' },
        { name: 'deepinfra', inject_stream_usage: true },
      ],
    });
    expect(reg.names()).toHaveLength(17);
    expect(reg.resolve('azure-east')).toMatchObject({
      dialect: 'openai-compatible',
      injectStreamUsage: true,
      basePath: '/openai',
    });
    expect(reg.resolve('ollama')?.injectStreamUsage).toBe(false);
    expect(reg.resolve('anthropic')).toMatchObject({
      dialect: 'anthropic',
      origin: 'https://eu.anthropic.example',
    });
    expect(reg.resolve('deepinfra')).toMatchObject({
      injectStreamUsage: true,
      stripPrefix: '/v1',
      basePath: '/v1/openai',
    });
  });

  const bad: Array<[string, ConstructorParameters<typeof ProviderRegistry>[0], RegExp]> = [
    ['bad name', { custom: [{ name: 'Bad_Name', base_url: 'http://x' }] }, /^providers\[0\]\.name: /],
    ['empty name', { custom: [{ name: '', base_url: 'http://x' }] }, /^providers\[0\]\.name: /],
    ['long name', { custom: [{ name: 'a'.repeat(65), base_url: 'http://x' }] }, /^providers\[0\]\.name: /],
    ['alias name', { custom: [{ name: 'google-ai-studio', base_url: 'http://x' }] }, /reserved alias/],
    [
      'bad dialect',
      { custom: [{ name: 'x', base_url: 'http://x', dialect: 'cohere' }] },
      /^providers\[0\]\.dialect: /,
    ],
    ['missing base', { custom: [{ name: 'x' }] }, /^providers\[0\]\.base_url: /],
    ['base not a url', { custom: [{ name: 'x', base_url: 'not a url' }] }, /^provider x: base_url: /],
    ['ftp scheme', { custom: [{ name: 'x', base_url: 'ftp://h' }] }, /scheme must be http or https/],
    ['userinfo', { custom: [{ name: 'x', base_url: 'http://u:p@h' }] }, /no user, query or fragment/],
    ['query', { custom: [{ name: 'x', base_url: 'http://h/?a=1' }] }, /no user, query or fragment/],
    ['fragment', { custom: [{ name: 'x', base_url: 'http://h/#f' }] }, /no user, query or fragment/],
    [
      'inject not bool',
      { custom: [{ name: 'x', base_url: 'http://h', inject_stream_usage: 'yes' as unknown as boolean }] },
      /^providers\[0\]\.inject_stream_usage: /,
    ],
    [
      'strip prefix',
      { custom: [{ name: 'x', base_url: 'http://h', strip_prefix: 'v1' }] },
      /^providers\[0\]\.strip_prefix: /,
    ],
    ['unknown override', { upstreams: { nosuch: 'http://h' } }, /^upstreams\.nosuch: unknown provider/],
    ['bad override', { upstreams: { openai: 'file:///etc' } }, /^provider openai: base_url: .*scheme/],
  ];
  it.each(bad.map(([name, options, error]) => ({ name, options, error })))(
    'rejects $name naming the field',
    ({ options, error }) => {
      expect(() => new ProviderRegistry(options)).toThrow(ProviderConfigError);
      expect(() => new ProviderRegistry(options)).toThrow(error);
    },
  );
});
