// The OpenAPI entries of the budget routes and of a request's re-pricing history (merged into openapi.document.ts).
type Schema = Record<string, unknown>;

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const str: Schema = { type: 'string' };
const int: Schema = { type: 'integer' };
const time: Schema = { type: 'string', format: 'date-time' };
const decimal: Schema = { type: 'string', pattern: '^-?\\d+(\\.\\d+)?$', description: 'exact decimal USD' };
const nullable = (s: Schema): Schema => ({ anyOf: [s, { type: 'null' }] });
const json = (schema: Schema, description = 'OK'): Schema => ({
  description,
  content: { 'application/json': { schema } },
});
const errors = (...codes: number[]): Record<string, Schema> =>
  Object.fromEntries(codes.map((c) => [String(c), { $ref: `#/components/responses/E${c}` }]));
const idParam = {
  name: 'id',
  in: 'path',
  required: true,
  description: 'budget id (bud_ + 16 hex)',
  schema: str,
};

const scope: Schema = {
  type: 'object',
  additionalProperties: false,
  description: 'every field optional; all given must match',
  properties: {
    tenant: str,
    key_id: str,
    provider: str,
    model: str,
    dims: { type: 'object', additionalProperties: str },
  },
};

const definition: Record<string, Schema> = {
  name: str,
  scope,
  period: { type: 'string', enum: ['day', 'week', 'month', 'fiscal_month', 'custom'] },
  time_zone: { type: 'string', description: 'IANA zone of the period boundaries (default UTC)' },
  start_day: {
    type: 'integer',
    minimum: 1,
    maximum: 28,
    description: 'fiscal_month: day of month it starts; week: ISO weekday 1 (Mon)..7',
  },
  from: { ...time, description: 'custom: start, inclusive' },
  to: { ...time, description: 'custom: end, exclusive' },
  amount_usd: { type: 'string', pattern: '^\\d+(\\.\\d{1,10})?$', description: 'positive exact decimal USD' },
  thresholds: {
    type: 'array',
    items: { type: 'number', exclusiveMinimum: 0, maximum: 1000 },
    description: 'percent, ascending, unique (default [50, 75, 90, 100])',
  },
  enforce: { type: 'boolean', description: 'reject requests in scope with 429 once used up (default false)' },
  owner: str,
  webhook_url: {
    type: 'string',
    format: 'uri',
    description: 'signed JSON webhook (https; http to loopback)',
  },
  slack_webhook_url: { type: 'string', format: 'uri' },
  email: { type: 'array', items: { type: 'string', format: 'email' } },
};

export const BUDGET_PATHS = {
  '/api/v1/budgets': {
    get: {
      summary: 'Budgets with their current period spend, oldest first',
      parameters: [
        {
          name: 'tenant',
          in: 'query',
          required: false,
          description: 'budgets scoped to this tenant',
          schema: str,
        },
      ],
      responses: {
        '200': json({ type: 'object', properties: { budgets: { type: 'array', items: ref('Budget') } } }),
        ...errors(401, 502),
      },
    },
    post: {
      summary: 'Define a budget; the webhook signing secret is returned once',
      requestBody: { required: true, content: { 'application/json': { schema: ref('CreateBudget') } } },
      responses: {
        '201': json(
          { allOf: [ref('Budget'), { type: 'object', properties: { webhook_secret: str } }] },
          'Created',
        ),
        ...errors(400, 401, 502),
      },
    },
  },
  '/api/v1/budgets/{id}': {
    parameters: [idParam],
    get: { summary: 'One budget', responses: { '200': json(ref('Budget')), ...errors(401, 404, 502) } },
    patch: {
      summary: 'Change the fields given (a given scope replaces the whole scope)',
      requestBody: { required: true, content: { 'application/json': { schema: ref('PatchBudget') } } },
      responses: { '200': json(ref('Budget')), ...errors(400, 401, 404, 502) },
    },
    delete: {
      summary: 'Remove a budget',
      responses: { '204': { description: 'Removed' }, ...errors(401, 404, 502) },
    },
  },
  '/api/v1/budgets/{id}/alerts': {
    parameters: [idParam],
    get: {
      summary: 'Thresholds crossed, newest first, with each notification delivery',
      responses: {
        '200': json({ type: 'object', properties: { alerts: { type: 'array', items: ref('BudgetAlert') } } }),
        ...errors(401, 404, 502),
      },
    },
  },
  '/api/v1/events/{request_id}/repricings': {
    parameters: [{ name: 'request_id', in: 'path', required: true, description: 'request id', schema: str }],
    get: {
      summary: "A request's re-pricing history (UsageRepriced events), oldest first",
      responses: {
        '200': json({
          type: 'object',
          properties: { repricings: { type: 'array', items: ref('Repricing') } },
        }),
        ...errors(401, 404),
      },
    },
  },
} as const;

const costFields: Schema = {
  type: 'object',
  properties: {
    provider_cost: nullable(decimal),
    calculated_cost: nullable(decimal),
    total_cost_usd: nullable(decimal),
    cost_source: str,
    pricing_matched: { type: 'boolean' },
    pricing_model: str,
    pricing_version: str,
  },
};

export const BUDGET_SCHEMAS = {
  CreateBudget: {
    type: 'object',
    required: ['name', 'period', 'amount_usd'],
    additionalProperties: false,
    properties: definition,
  },
  PatchBudget: { type: 'object', additionalProperties: false, properties: definition },
  Budget: {
    type: 'object',
    properties: {
      id: str,
      ...definition,
      created_at: time,
      updated_at: time,
      period_start: time,
      period_end: time,
      spent_usd: decimal,
      percent_used: { type: 'string', description: 'spent / amount × 100, two decimals' },
      forecast_usd: { ...decimal, description: 'period-end projection from the run rate' },
      exhausted: { type: 'boolean', description: 'enforcing and used up' },
    },
  },
  BudgetAlert: {
    type: 'object',
    properties: {
      threshold: { type: 'number' },
      crossed_at: time,
      spent_usd: decimal,
      period_start: time,
      deliveries: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            channel: { type: 'string', enum: ['webhook', 'slack', 'email', 'bus'] },
            target: str,
            status: { type: 'string', enum: ['pending', 'delivered', 'failed'] },
            attempts: int,
            last_error: str,
            delivered_at: time,
          },
        },
      },
    },
  },
  Repricing: {
    type: 'object',
    properties: {
      at: time,
      actor: str,
      reason: str,
      previous_total_cost_usd: nullable(decimal),
      total_cost_usd: nullable(decimal),
      previous: costFields,
      cost: costFields,
    },
  },
} as const;
