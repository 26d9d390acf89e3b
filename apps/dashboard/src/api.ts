// The admin API as the dashboard calls it: every number on screen comes from these routes, with the admin token
// as a bearer token. Failures become sentences a person can act on.

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

export type Query = Record<string, string | undefined>;

function url(path: string, query: Query = {}): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') q.set(k, v);
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

async function failure(res: Response): Promise<ApiError> {
  if (res.status === 401) return new ApiError('The admin token was refused. Sign in again.', 401);
  let detail = '';
  try {
    const body = (await res.json()) as { error?: string; param?: string };
    detail = (body.error ?? '').replace(/^AISpendOps:\s*/, '');
  } catch {
    // Not JSON (a proxy in front, a crash page): the status says enough.
  }
  if (res.status === 502)
    return new ApiError(`A SpendOps service did not answer${detail ? `: ${detail}` : ''}.`, 502);
  return new ApiError(detail || `The server answered ${res.status} ${res.statusText}.`, res.status);
}

export class AdminApi {
  constructor(
    private readonly token: string,
    private readonly onUnauthorized: () => void = () => undefined,
  ) {}

  async request<T>(method: string, path: string, query: Query = {}, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(url(path, query), {
        method,
        headers: {
          authorization: `Bearer ${this.token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      throw new ApiError('Could not reach the SpendOps server. Is it running?', 0);
    }
    if (!res.ok) {
      const err = await failure(res);
      if (err.status === 401) this.onUnauthorized();
      throw err;
    }
    if (res.status === 204) return undefined as T;
    return (await res.json()) as T;
  }

  get<T>(path: string, query: Query = {}): Promise<T> {
    return this.request<T>('GET', path, query);
  }

  post<T>(path: string, body: unknown = {}): Promise<T> {
    return this.request<T>('POST', path, {}, body);
  }

  delete(path: string): Promise<void> {
    return this.request<void>('DELETE', path);
  }

  /** A streamed export (CSV/NDJSON) as a Blob, for a download link: a plain link cannot carry the token. */
  async blob(path: string, query: Query): Promise<Blob> {
    const res = await fetch(url(path, query), { headers: { authorization: `Bearer ${this.token}` } });
    if (!res.ok) throw await failure(res);
    return res.blob();
  }
}

/** Checks a token before signing in with it: the OpenAPI document needs the admin token and costs nothing. */
export async function verifyToken(token: string): Promise<void> {
  await new AdminApi(token).get('/api/v1/openapi.json');
}

// --- Response shapes (the admin API's OpenAPI document) ---

export interface Totals {
  requests: number;
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
  reasoning_tokens: number;
  cost_usd: string;
  unpriced_requests: number;
}

export interface Analytics {
  from: string;
  to: string;
  interval: 'hour' | 'day';
  group_by: string[];
  totals: Totals;
  groups: ({ group: Record<string, string> } & Totals)[];
  series: ({ bucket_start: string; group: Record<string, string> } & Totals)[];
}

export interface UsageEvent {
  request_id: string;
  ts: string;
  tenant_id: string;
  api_key_id: string;
  provider: string;
  method: string;
  endpoint: string;
  endpoint_class: string | null;
  model: string | null;
  response_model: string | null;
  service_tier: string | null;
  stream: boolean;
  outcome: string;
  usage_source: string | null;
  http_status: number | null;
  dims: Record<string, string>;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  total_tokens: number | null;
  cache_read_tokens: number | null;
  cache_write_tokens: number | null;
  reasoning_tokens: number | null;
  provider_cost: string | null;
  calculated_cost: string | null;
  total_cost_usd: string | null;
  cost_source: string | null;
  pricing_matched: boolean;
  pricing_model: string | null;
  pricing_version: string | null;
  started_at_ms: number | null;
  first_byte_at_ms: number | null;
  ended_at_ms: number | null;
  raw_usage: unknown;
  [field: string]: unknown;
}

export interface Denial {
  request_id: string;
  ts: string;
  type: string;
  reason: string;
  http_status: number;
  tenant_id: string;
  api_key_id: string;
  provider: string;
  path: string;
  dims: Record<string, string>;
}

export interface KeyPolicy {
  providers?: string[];
  models?: string[];
  dims_required?: boolean;
  dims_allowed?: string[];
  dims_pinned?: Record<string, string>;
  dims_default?: Record<string, string>;
}

export interface ApiKey {
  id: string;
  name: string;
  tenant: string;
  status: 'active' | 'revoked';
  policy: KeyPolicy;
  created_at: string;
  updated_at: string;
  last_used_at: string | null;
}

export type PriceRates = Record<string, string | undefined>;

export interface PricedModel {
  provider: string;
  model: string;
  kind?: string;
  source: string;
  current: { effective_from?: string; rates: PriceRates };
  expense?: { cost_score: string; tier: string; warn: boolean };
}

export interface PricingModels {
  version: string;
  overrides_version: number;
  models: PricedModel[];
}

export interface UnpricedModel {
  provider: string;
  model: string;
  events: number;
  cost_known: number;
  first_seen?: string;
  last_seen?: string;
}

export interface PriceOverride {
  id: number;
  tenant_id: string;
  provider?: string;
  model: string;
  rates?: PriceRates;
  markup_pct?: string;
  note?: string;
  created_at: string;
}
