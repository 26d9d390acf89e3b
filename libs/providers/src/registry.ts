import type { ProviderDialect } from '@spendops/contracts';
import {
  BUILTIN_PROVIDERS,
  DIALECTS,
  PROVIDER_ALIASES,
  ProviderDefinition,
  ProviderDefinitionInput,
  canonicalProviderName,
} from './definitions';

export interface ProviderRegistryOptions {
  /** Base-URL overrides by provider name or alias (config `upstreams`, `--upstream name=url`). */
  upstreams?: Record<string, string>;
  /** User-defined providers; one with a built-in's name replaces only the fields it sets. */
  custom?: ProviderDefinitionInput[];
}

/** Thrown for an invalid provider configuration; the message names the offending field. */
export class ProviderConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProviderConfigError';
  }
}

const NAME_RE = /^[a-z0-9-]{1,64}$/;

/** Route names → providers. Built-ins, then user definitions, then base-URL overrides. Read-only once built. */
export class ProviderRegistry {
  private readonly byName = new Map<string, ProviderDefinition>();

  constructor(options: ProviderRegistryOptions = {}) {
    const defs = new Map<string, ProviderDefinitionInput>();
    for (const d of BUILTIN_PROVIDERS) defs.set(d.name, { ...d });
    (options.custom ?? []).forEach((input, i) => {
      const field = `providers[${i}]`;
      if (input === null || typeof input !== 'object') {
        throw new ProviderConfigError(`${field}: must be an object`);
      }
      const d = { ...input };
      if (typeof d.name !== 'string' || !NAME_RE.test(d.name)) {
        throw new ProviderConfigError(`${field}.name: ${JSON.stringify(d.name)} must be 1-64 of [a-z0-9-]`);
      }
      if (Object.prototype.hasOwnProperty.call(PROVIDER_ALIASES, d.name)) {
        throw new ProviderConfigError(`${field}.name: ${JSON.stringify(d.name)} is a reserved alias`);
      }
      checkOptional(d.base_url, 'string', `${field}.base_url`);
      checkOptional(d.dialect, 'string', `${field}.dialect`);
      checkOptional(d.inject_stream_usage, 'boolean', `${field}.inject_stream_usage`);
      checkOptional(d.strip_prefix, 'string', `${field}.strip_prefix`);
      const base = defs.get(d.name);
      if (base) {
        d.base_url = d.base_url || base.base_url;
        d.dialect = d.dialect || base.dialect;
        d.inject_stream_usage = d.inject_stream_usage ?? base.inject_stream_usage;
        d.strip_prefix = d.strip_prefix || base.strip_prefix;
      }
      d.dialect = d.dialect || 'openai-compatible';
      if (!(DIALECTS as readonly string[]).includes(d.dialect)) {
        throw new ProviderConfigError(
          `${field}.dialect: ${JSON.stringify(d.dialect)} is not one of ${DIALECTS.join(', ')}`,
        );
      }
      if (d.strip_prefix && !/^\/[^/]+$/.test(d.strip_prefix)) {
        throw new ProviderConfigError(
          `${field}.strip_prefix: ${JSON.stringify(d.strip_prefix)} must be one path segment like "/v1"`,
        );
      }
      if (!d.base_url) throw new ProviderConfigError(`${field}.base_url: required for a new provider`);
      defs.set(d.name, d);
    });
    for (const [name, url] of Object.entries(options.upstreams ?? {})) {
      const canon = canonicalProviderName(name);
      const d = defs.get(canon);
      if (!d) throw new ProviderConfigError(`upstreams.${name}: unknown provider`);
      if (typeof url !== 'string') throw new ProviderConfigError(`upstreams.${name}: must be a URL string`);
      defs.set(canon, { ...d, base_url: url });
    }
    for (const [name, d] of defs) {
      const { origin, basePath } = parseBaseUrl(d.base_url ?? '', `provider ${name}: base_url`);
      this.byName.set(name, {
        name,
        origin,
        basePath,
        dialect: d.dialect as ProviderDialect,
        injectStreamUsage: d.inject_stream_usage === true,
        stripPrefix: d.strip_prefix ?? '',
      });
    }
  }

  /** The provider for a route name or alias. */
  resolve(name: string): ProviderDefinition | undefined {
    return this.byName.get(canonicalProviderName(name));
  }

  /** Canonical names, sorted. */
  names(): string[] {
    return [...this.byName.keys()].sort();
  }
}

function checkOptional(value: unknown, type: 'string' | 'boolean', field: string): void {
  if (value !== undefined && value !== null && typeof value !== type) {
    throw new ProviderConfigError(`${field}: must be a ${type}`);
  }
}

/** `scheme://host[:port][/path]` with no user, query or fragment. */
export function parseBaseUrl(raw: string, field: string): { origin: string; basePath: string } {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new ProviderConfigError(`${field}: ${JSON.stringify(raw)} is not a URL`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new ProviderConfigError(`${field}: ${JSON.stringify(raw)}: scheme must be http or https`);
  }
  if (!u.host || u.username || u.password || raw.includes('?') || raw.includes('#')) {
    throw new ProviderConfigError(
      `${field}: ${JSON.stringify(raw)}: want scheme://host[:port][/path] with no user, query or fragment`,
    );
  }
  const basePath = u.pathname === '/' ? '' : u.pathname.replace(/\/$/, '');
  return { origin: u.origin, basePath };
}
