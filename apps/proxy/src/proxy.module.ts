import { DynamicModule, Module } from '@nestjs/common';
import { ProviderDefinitionInput, ProviderRegistry } from '@spendops/providers';
import { ProxyHandler } from './proxy.handler';
import { PROXY_OPTIONS, ProxyOptions, resolveProxyOptions } from './proxy.options';

export interface ProxyModuleOptions extends ProxyOptions {
  /** Base-URL overrides by provider name (config `upstreams`, `--upstream name=url`). */
  upstreams?: Record<string, string>;
  /** User-defined providers (config `providers`). */
  customProviders?: ProviderDefinitionInput[];
}

/**
 * The proxy data plane. Provides ProxyHandler (mount it below any router for URLs starting with `/v1/`) and the
 * ProviderRegistry. Expects REQUEST_AUTHORIZER and OUTBOUND_QUEUE from the importing context (global modules).
 * Configuration errors (a bad provider definition or option) throw at startup, naming the field.
 */
@Module({})
export class ProxyModule {
  static forRoot(options: ProxyModuleOptions = {}): DynamicModule {
    const { upstreams, customProviders, ...proxyOptions } = options;
    const resolved = resolveProxyOptions(proxyOptions);
    const registry = new ProviderRegistry({ upstreams, custom: customProviders });
    return {
      module: ProxyModule,
      providers: [
        { provide: PROXY_OPTIONS, useValue: resolved },
        { provide: ProviderRegistry, useValue: registry },
        ProxyHandler,
      ],
      exports: [ProxyHandler, ProviderRegistry, PROXY_OPTIONS],
    };
  }
}
