import { Global, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { REQUEST_AUTHORIZER } from '@spendops/contracts';
import { OUTBOUND_QUEUE } from '@spendops/messaging';
import { ProviderRegistry } from '@spendops/providers';
import { ProxyHandler } from './proxy.handler';
import { ProxyModule } from './proxy.module';
import { PROXY_OPTIONS, ResolvedProxyOptions } from './proxy.options';
import { FakeAuthorizer, MemoryQueue } from './testing/harness';

@Global()
@Module({
  providers: [
    { provide: REQUEST_AUTHORIZER, useClass: FakeAuthorizer },
    { provide: OUTBOUND_QUEUE, useClass: MemoryQueue },
  ],
  exports: [REQUEST_AUTHORIZER, OUTBOUND_QUEUE],
})
class SeamsModule {}

describe('ProxyModule.forRoot', () => {
  it('provides a ProxyHandler wired to the registry, options and the global seams', async () => {
    const mod = await Test.createTestingModule({
      imports: [
        SeamsModule,
        ProxyModule.forRoot({
          maxJsonBodyBytes: 2048,
          upstreams: { openai: 'http://127.0.0.1:9/base' },
          customProviders: [
            { name: 'vllm', base_url: 'http://127.0.0.1:8000', dialect: 'openai-compatible' },
          ],
        }),
      ],
    }).compile();
    expect(mod.get(ProxyHandler)).toBeInstanceOf(ProxyHandler);
    const registry = mod.get(ProviderRegistry);
    expect(registry.resolve('openai')).toMatchObject({ origin: 'http://127.0.0.1:9', basePath: '/base' });
    expect(registry.resolve('vllm')?.dialect).toBe('openai-compatible');
    expect(mod.get<ResolvedProxyOptions>(PROXY_OPTIONS)).toMatchObject({
      maxJsonBodyBytes: 2048,
      headersTimeoutMs: 600_000,
      connectTimeoutMs: 10_000,
    });
    await mod.close();
  });

  it('fails at startup naming the bad field', () => {
    expect(() => ProxyModule.forRoot({ customProviders: [{ name: 'Bad Name' }] })).toThrow(
      /providers\[0\]\.name/,
    );
    expect(() => ProxyModule.forRoot({ maxJsonBodyBytes: -1 })).toThrow(/proxy\.maxJsonBodyBytes/);
    expect(() => ProxyModule.forRoot({ upstreams: { nosuch: 'http://x' } })).toThrow(/upstreams\.nosuch/);
  });
});
