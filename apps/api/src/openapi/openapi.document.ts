// The admin API's OpenAPI 3.1 document, written by hand next to the routes (a spec checks that the two agree).
import { DENIAL_FIELDS, EVENT_FIELDS, EVENT_INTEGER_FIELDS } from '@spendops/contracts';
import { BUDGET_PATHS, BUDGET_SCHEMAS } from './budgets.openapi';
import { PRICING_REPRICE_PATHS, PRICING_REPRICE_SCHEMAS } from './pricing.openapi';

type Schema = Record<string, unknown>;

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const str: Schema = { type: 'string' };
const int: Schema = { type: 'integer' };
const decimal: Schema = { type: 'string', pattern: '^-?\\d+(\\.\\d+)?$', description: 'exact decimal USD' };
const nullable = (s: Schema): Schema => ({ anyOf: [s, { type: 'null' }] });

function query(name: string, description: string, schema: Schema = str, required = false): Schema {
  return { name, in: 'query', required, description, schema };
}
function path(name: string, description: string): Schema {
  return { name, in: 'path', required: true, description, schema: str };
}
function json(schema: Schema, description = 'OK'): Schema {
  return { description, content: { 'application/json': { schema } } };
}
const errors = (...codes: number[]): Record<string, Schema> =>
  Object.fromEntries(codes.map((c) => [String(c), { $ref: `#/components/responses/E${c}` }]));
function body(schema: Schema): Schema {
  return { required: true, content: { 'application/json': { schema } } };
}

const filterParams = [
  query('request_id', 'exact request id'),
  query('provider', 'provider name'),
  query('model', 'model (events only)'),
  query('key_id', 'API key id'),
  query('tenant_id', 'tenant id'),
  query('from', 'RFC 3339 time, inclusive', { type: 'string', format: 'date-time' }),
  query('to', 'RFC 3339 time, exclusive', { type: 'string', format: 'date-time' }),
  {
    name: 'dim',
    in: 'query',
    description: 'dimension filters as dim.<key>=<value>; several are ANDed',
    style: 'form',
    explode: true,
    schema: { type: 'object', additionalProperties: str },
  },
  query('limit', 'page size (default 100, max 1000); for exports the total row cap', {
    type: 'integer',
    minimum: 1,
  }),
  query('order', 'desc (default, newest first) or asc', { type: 'string', enum: ['asc', 'desc'] }),
  query('next', 'cursor: the next of the previous page (same order)'),
  query('format', 'json (pages), ndjson or csv (every matching row, streamed)', {
    type: 'string',
    enum: ['json', 'ndjson', 'csv'],
  }),
];

function exportResponses(item: string, listName: string): Schema {
  return {
    description: 'A page, or the streamed export',
    content: {
      'application/json': {
        schema: {
          type: 'object',
          required: [listName, 'next'],
          properties: { [listName]: { type: 'array', items: ref(item) }, next: nullable(str) },
        },
      },
      'application/x-ndjson': { schema: ref(item) },
      'text/csv': { schema: str },
    },
  };
}

const tokenFields: ReadonlySet<string> = new Set(EVENT_INTEGER_FIELDS);

function eventFieldSchema(field: string): Schema {
  if (field === 'dims') return { type: 'object', additionalProperties: str };
  if (field === 'raw_usage') return { description: "the provider's usage object as received" };
  if (field === 'stream' || field === 'stream_usage_injected' || field === 'pricing_matched')
    return { type: 'boolean' };
  if (field.endsWith('_cost') || field === 'total_cost_usd') return nullable(decimal);
  if (field === 'ts') return { type: 'string', format: 'date-time' };
  if (tokenFields.has(field)) return nullable(int);
  return nullable(str);
}

const policy: Schema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    providers: { type: 'array', items: str },
    models: { type: 'array', items: str, description: '*, provider:exact, provider:prefix*' },
    dims_required: { type: 'boolean' },
    dims_allowed: { type: 'array', items: str },
    max_dims: int,
    max_key_len: int,
    max_value_len: int,
    dims_pinned: { type: 'object', additionalProperties: str },
    dims_default: { type: 'object', additionalProperties: str },
    rate_limits: {
      type: 'object',
      nullable: true,
      description: 'docs/rate-limits.md: per key, and per value of each listed dimension',
      properties: {
        ...rateLimitValues(),
        per_dimension: {
          type: 'object',
          additionalProperties: { type: 'object', properties: rateLimitValues() },
        },
      },
    },
  },
};

function rateLimitValues(): Record<string, Schema> {
  return {
    requests_per_minute: { type: 'integer', minimum: 1 },
    tokens_per_minute: { type: 'integer', minimum: 1 },
    usd_per_hour: { type: 'string', pattern: '^[0-9]+(\\.[0-9]{1,6})?$' },
  };
}

const counts = {
  requests: int,
  prompt_tokens: int,
  completion_tokens: int,
  total_tokens: int,
  cache_read_tokens: int,
  cache_write_tokens: int,
  reasoning_tokens: int,
  cost_usd: decimal,
  unpriced_requests: int,
};
const groupObj: Schema = { type: 'object', additionalProperties: str };

export const OPENAPI_DOCUMENT = {
  openapi: '3.1.0',
  info: {
    title: 'SpendOps admin API',
    version: '1',
    description:
      'Usage events, denials, analytics, API keys, pricing and budgets. Errors: {"error":"AISpendOps: <message>"}.',
  },
  security: [{ adminToken: [] }],
  paths: {
    ...BUDGET_PATHS,
    '/api/v1/events': {
      get: {
        summary: 'Usage events',
        parameters: filterParams,
        responses: { '200': exportResponses('Event', 'events'), ...errors(400, 401) },
      },
    },
    '/api/v1/denials': {
      get: {
        summary: 'Denied requests',
        parameters: filterParams.filter((p) => p.name !== 'model'),
        responses: { '200': exportResponses('Denial', 'denials'), ...errors(400, 401) },
      },
    },
    '/api/v1/analytics': {
      get: {
        summary: 'Totals and a time series from the hourly/daily aggregates',
        parameters: [
          query('from', 'RFC 3339, inclusive', { type: 'string', format: 'date-time' }, true),
          query('to', 'RFC 3339, exclusive', { type: 'string', format: 'date-time' }, true),
          query(
            'interval',
            'bucket size (default day; auto = hour up to 2 days, else day; at most 1500 buckets)',
            {
              type: 'string',
              enum: ['hour', 'day', 'auto'],
            },
          ),
          query('group_by', 'comma-separated: tenant_id, api_key_id, provider, model, dim:<key>'),
          query('tenant_id', 'one tenant'),
          query(
            'limit',
            'groups listed by cost (default 10, at most 1000); the rest are summed as the (other) group',
            {
              type: 'integer',
              minimum: 1,
              maximum: 1000,
            },
          ),
        ],
        responses: { '200': json(ref('Analytics')), ...errors(400, 401) },
      },
    },
    '/api/v1/keys': {
      get: {
        summary: 'List keys (oldest first)',
        parameters: [query('tenant', 'one tenant')],
        responses: {
          '200': json({ type: 'object', properties: { keys: { type: 'array', items: ref('Key') } } }),
          ...errors(400, 401, 502),
        },
      },
      post: {
        summary: 'Create a key; the full key is returned once',
        requestBody: body(ref('CreateKey')),
        responses: {
          '201': json({ allOf: [ref('Key'), { type: 'object', properties: { key: str } }] }, 'Created'),
          ...errors(400, 401, 502),
        },
      },
    },
    '/api/v1/keys/{id}': {
      parameters: [path('id', 'key id')],
      get: { summary: 'One key', responses: { '200': json(ref('Key')), ...errors(401, 404, 502) } },
      patch: {
        summary: 'Replace policy fields and/or activate (active: true) or revoke (active: false)',
        requestBody: body({
          type: 'object',
          additionalProperties: false,
          properties: { policy, active: { type: 'boolean' } },
        }),
        responses: { '200': json(ref('Key')), ...errors(400, 401, 404, 502) },
      },
      delete: {
        summary: 'Revoke a key',
        responses: { '204': { description: 'Revoked' }, ...errors(401, 404, 502) },
      },
    },
    '/api/v1/keys/{id}/rotate': {
      parameters: [path('id', 'key id')],
      post: {
        summary: 'New secret; the previous one works for grace_seconds',
        requestBody: {
          required: false,
          content: {
            'application/json': {
              schema: {
                type: 'object',
                additionalProperties: false,
                properties: { grace_seconds: { type: 'integer', minimum: 0, maximum: 7776000 } },
              },
            },
          },
        },
        responses: {
          '200': json({
            type: 'object',
            properties: {
              id: str,
              key: str,
              previous_secret_valid_seconds: int,
              previous_valid_until: nullable({ type: 'string', format: 'date-time' }),
            },
          }),
          ...errors(400, 401, 404, 502),
        },
      },
    },
    '/api/v1/keys/{id}/activate': {
      parameters: [path('id', 'key id')],
      post: {
        summary: 'Re-activate a revoked key',
        responses: { '200': json(ref('Key')), ...errors(401, 404, 502) },
      },
    },
    '/api/v1/audit': {
      get: {
        summary: 'Key audit log (oldest first)',
        parameters: [query('key_id', 'one key')],
        responses: {
          '200': json({ type: 'object', properties: { audit: { type: 'array', items: ref('AuditEntry') } } }),
          ...errors(400, 401, 502),
        },
      },
    },
    '/api/v1/pricing/models': {
      get: {
        summary: 'Priced models, current prices and expense tiers',
        parameters: [query('provider', 'one provider')],
        responses: { '200': json({ type: 'object' }), ...errors(400, 401, 502) },
      },
    },
    '/api/v1/pricing/models/{provider}/{model}': {
      parameters: [
        path('provider', 'provider'),
        path('model', 'model name as a request sends it (may contain /)'),
      ],
      get: {
        summary: 'One model with every price period',
        responses: { '200': json({ type: 'object' }), ...errors(401, 404, 502) },
      },
    },
    '/api/v1/pricing/unpriced': {
      get: {
        summary: 'Models seen without a price',
        responses: { '200': json({ type: 'object' }), ...errors(401, 502) },
      },
    },
    '/api/v1/pricing/overrides': {
      get: {
        summary: 'Tenant price overrides',
        responses: { '200': json(ref('Overrides')), ...errors(401, 502) },
      },
      post: {
        summary: 'Add an override',
        requestBody: body(ref('AddOverride')),
        responses: { '201': json(ref('Overrides'), 'Created'), ...errors(400, 401, 502) },
      },
    },
    '/api/v1/pricing/overrides/{id}': {
      parameters: [{ ...path('id', 'override id'), schema: { type: 'integer', minimum: 1 } }],
      delete: {
        summary: 'Retire an override',
        responses: { '204': { description: 'Deleted' }, ...errors(400, 401, 404, 502) },
      },
    },
    ...PRICING_REPRICE_PATHS,
    '/api/v1/openapi.json': {
      get: { summary: 'This document', responses: { '200': json({ type: 'object' }), ...errors(401) } },
    },
  },
  components: {
    securitySchemes: { adminToken: { type: 'http', scheme: 'bearer' } },
    responses: Object.fromEntries(
      [
        [400, 'Bad request (the message, and "param" for a query parameter, name the field)'],
        [401, 'Missing or invalid admin token'],
        [404, 'Not found'],
        [502, 'The auth, pricing or ledger service did not answer'],
      ].map(([code, description]) => [`E${code}`, json(ref('Error'), String(description))]),
    ),
    schemas: {
      ...BUDGET_SCHEMAS,
      ...PRICING_REPRICE_SCHEMAS,
      Error: {
        type: 'object',
        required: ['error'],
        properties: { error: { type: 'string', pattern: '^AISpendOps: ' }, param: str },
      },
      Event: {
        type: 'object',
        required: [...EVENT_FIELDS],
        properties: Object.fromEntries(EVENT_FIELDS.map((f) => [f, eventFieldSchema(f)])),
      },
      Denial: {
        type: 'object',
        required: [...DENIAL_FIELDS],
        properties: Object.fromEntries(
          DENIAL_FIELDS.map((f) => [
            f,
            f === 'dims'
              ? { type: 'object', additionalProperties: str }
              : f === 'http_status'
                ? int
                : f === 'ts'
                  ? { type: 'string', format: 'date-time' }
                  : str,
          ]),
        ),
      },
      Analytics: {
        type: 'object',
        properties: {
          from: str,
          to: str,
          interval: str,
          group_by: { type: 'array', items: str },
          limit: int,
          groups_total: { type: 'integer', description: 'groups in the range, before the limit' },
          totals: { type: 'object', properties: counts },
          groups: {
            type: 'array',
            items: { type: 'object', properties: { group: groupObj, other: { type: 'boolean' }, ...counts } },
          },
          series: {
            type: 'array',
            items: {
              type: 'object',
              properties: { bucket_start: str, group: groupObj, other: { type: 'boolean' }, ...counts },
            },
          },
        },
      },
      Policy: policy,
      Key: {
        type: 'object',
        properties: {
          id: str,
          name: str,
          tenant: str,
          status: { type: 'string', enum: ['active', 'revoked'] },
          policy,
          created_at: str,
          updated_at: str,
          last_used_at: nullable(str),
        },
      },
      CreateKey: {
        type: 'object',
        required: ['name'],
        additionalProperties: false,
        properties: { name: str, tenant: str, policy },
      },
      AuditEntry: {
        type: 'object',
        properties: { seq: int, ts: str, key_id: str, action: str, actor: str, detail: { type: 'object' } },
      },
      AddOverride: {
        type: 'object',
        required: ['tenant_id', 'model'],
        additionalProperties: false,
        properties: {
          tenant_id: str,
          provider: str,
          model: str,
          rates: { type: 'object', additionalProperties: decimal },
          markup_pct: decimal,
          note: str,
        },
      },
      Overrides: {
        type: 'object',
        properties: { version: int, overrides: { type: 'array', items: { type: 'object' } } },
      },
    },
  },
} as const;
