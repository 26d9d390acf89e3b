// The OpenAPI entries of re-pricing as a job: start a run, poll it, list runs (merged into openapi.document.ts).
type Schema = Record<string, unknown>;

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const str: Schema = { type: 'string' };
const int: Schema = { type: 'integer', minimum: 0 };
const time: Schema = { type: 'string', format: 'date-time' };
const decimal: Schema = { type: 'string', pattern: '^-?\\d+(\\.\\d+)?$', description: 'exact decimal USD' };
const nullable = (s: Schema): Schema => ({ anyOf: [s, { type: 'null' }] });
const json = (schema: Schema, description = 'OK', headers?: Schema): Schema => ({
  description,
  ...(headers ? { headers } : {}),
  content: { 'application/json': { schema } },
});
const errors = (...codes: number[]): Record<string, Schema> =>
  Object.fromEntries(codes.map((c) => [String(c), { $ref: `#/components/responses/E${c}` }]));
const header = (description: string): Schema => ({ description, schema: str });

export const PRICING_REPRICE_PATHS = {
  '/api/v1/pricing/reprice': {
    post: {
      summary: 'Start a re-pricing run: stored events priced again with the prices in force now',
      description:
        'Each event whose cost changes gets a UsageRepriced event (audited). The run goes on in the pricing ' +
        'service whatever happens to this request; the answer waits up to `wait` seconds for it: 200 with the ' +
        'finished run, or 202 with the running run and a Location to poll. A run that failed within the wait ' +
        'is a 502 naming it. `from` and `to` are required unless `unpriced_only`.',
      parameters: [
        {
          name: 'wait',
          in: 'query',
          required: false,
          description: 'seconds to wait for the run to finish (0 = answer 202 at once; default 5)',
          schema: { type: 'integer', minimum: 0, maximum: 60, default: 5 },
        },
      ],
      requestBody: {
        required: true,
        content: {
          'application/json': {
            schema: {
              type: 'object',
              additionalProperties: false,
              properties: {
                from: { ...time, description: 'inclusive' },
                to: { ...time, description: 'exclusive' },
                model: { type: 'string', description: 'request or response model' },
                provider: str,
                unpriced_only: { type: 'boolean', description: 'only events without a cost' },
              },
            },
          },
        },
      },
      responses: {
        '200': json(ref('RepriceRunAnswer'), 'The run finished within the wait (succeeded)', {
          'Content-Location': header('/api/v1/pricing/reprice-runs/{id}'),
        }),
        '202': json(ref('RepriceRunAnswer'), 'The run is running: poll Location', {
          Location: header('/api/v1/pricing/reprice-runs/{id}'),
          'Retry-After': header('seconds before polling'),
        }),
        ...errors(400, 401, 502),
      },
    },
  },
  '/api/v1/pricing/reprice-runs': {
    get: {
      summary: 'Re-pricing runs, newest first',
      parameters: [
        {
          name: 'limit',
          in: 'query',
          required: false,
          description: 'how many (default 50)',
          schema: { type: 'integer', minimum: 1, maximum: 200, default: 50 },
        },
      ],
      responses: {
        '200': json({ type: 'object', properties: { runs: { type: 'array', items: ref('RepriceRun') } } }),
        ...errors(400, 401, 502),
      },
    },
  },
  '/api/v1/pricing/reprice-runs/{id}': {
    parameters: [
      {
        name: 'id',
        in: 'path',
        required: true,
        description: 'run id',
        schema: { type: 'integer', minimum: 1 },
      },
    ],
    get: {
      summary: 'One re-pricing run (poll it while it runs)',
      responses: { '200': json(ref('RepriceRun')), ...errors(400, 401, 404, 502) },
    },
  },
};

const run: Schema = {
  type: 'object',
  required: ['id', 'status', 'selection', 'started_at', 'examined', 'changed'],
  properties: {
    id: str,
    status: {
      type: 'string',
      enum: ['running', 'succeeded', 'failed'],
      description: 'a running run whose heartbeat stopped for 2 minutes (its process died) becomes failed',
    },
    trigger: { type: 'string', description: 'manual, cli reprice, override <id> added, prices changed, …' },
    actor: str,
    selection: {
      type: 'object',
      properties: { unpriced_only: { type: 'boolean' }, from: time, to: time, model: str, provider: str },
    },
    catalog_version: str,
    overrides_version: int,
    started_at: time,
    finished_at: nullable(time),
    heartbeat_at: { ...time, description: 'last sign of life of the process running it' },
    examined: { ...int, description: 'events examined (so far, while running)' },
    changed: {
      ...int,
      description: 'events whose cost changed, each a UsageRepriced (so far, while running)',
    },
    before_usd: { ...decimal, description: 'old total of the changed events (null = 0)' },
    after_usd: { ...decimal, description: 'new total of the changed events (null = 0)' },
    error: nullable(str),
  },
};

export const PRICING_REPRICE_SCHEMAS = {
  RepriceRun: run,
  RepriceRunAnswer: {
    allOf: [
      ref('RepriceRun'),
      {
        type: 'object',
        properties: { run_id: { type: 'string', description: 'same as id (older callers)' } },
      },
    ],
  },
};
