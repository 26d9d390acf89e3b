// Read models of the ledger. They are projections of the event store: rebuildable, never the source of truth.
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class LedgerReadModels1733000000100 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE usage_events_view (
        request_id            text PRIMARY KEY,
        ts                    timestamptz NOT NULL,
        tenant_id             text NOT NULL,
        api_key_id            text NOT NULL,
        provider              text NOT NULL,
        method                text NOT NULL,
        endpoint              text NOT NULL,
        endpoint_class        text NOT NULL,
        model                 text NOT NULL,
        response_model        text NOT NULL,
        generation_id         text NOT NULL,
        service_tier          text NOT NULL,
        stream                boolean NOT NULL,
        stream_usage_injected boolean NOT NULL,
        outcome               text NOT NULL,
        usage_source          text NOT NULL,
        http_status           int NOT NULL,
        dims                  jsonb NOT NULL,
        prompt_tokens           bigint NOT NULL,
        completion_tokens       bigint NOT NULL,
        total_tokens            bigint NOT NULL,
        cache_read_tokens       bigint NOT NULL,
        cache_write_tokens      bigint NOT NULL,
        cache_write_5m_tokens   bigint NOT NULL,
        cache_write_1h_tokens   bigint NOT NULL,
        reasoning_tokens        bigint NOT NULL,
        prompt_audio_tokens     bigint NOT NULL,
        prompt_image_tokens     bigint NOT NULL,
        completion_audio_tokens bigint NOT NULL,
        completion_image_tokens bigint NOT NULL,
        web_search_requests   bigint NOT NULL,
        image_count           bigint NOT NULL,
        image_size            text NOT NULL,
        image_quality         text NOT NULL,
        audio_seconds         numeric NOT NULL,
        input_characters      bigint NOT NULL,
        provider_cost         numeric,
        calculated_cost       numeric,
        total_cost_usd        numeric,
        cost_source           text NOT NULL,
        pricing_matched       boolean NOT NULL,
        pricing_model         text NOT NULL,
        pricing_version       text NOT NULL,
        started_at_ms         bigint NOT NULL,
        first_byte_at_ms      bigint NOT NULL,
        ended_at_ms           bigint NOT NULL,
        raw_usage             json, -- json, not jsonb: kept as received (key order included)
        repriced_at           timestamptz
      )`);
    // Keyset pages walk (ts, request_id); each equality filter has its own (column, ts, request_id) index.
    await q.query('CREATE INDEX usage_events_view_ts ON usage_events_view (ts, request_id)');
    for (const col of ['tenant_id', 'api_key_id', 'provider', 'model']) {
      await q.query(`CREATE INDEX usage_events_view_${col} ON usage_events_view (${col}, ts, request_id)`);
    }
    await q.query('CREATE INDEX usage_events_view_dims ON usage_events_view USING gin (dims jsonb_path_ops)');
    await q.query(
      `CREATE INDEX usage_events_view_unpriced ON usage_events_view (provider, model) WHERE cost_source = 'none'`,
    );

    await q.query(`
      CREATE TABLE denials_view (
        request_id  text PRIMARY KEY,
        ts          timestamptz NOT NULL,
        type        text NOT NULL,
        reason      text NOT NULL,
        http_status int NOT NULL,
        tenant_id   text NOT NULL,
        api_key_id  text NOT NULL,
        provider    text NOT NULL,
        path        text NOT NULL,
        dims        jsonb NOT NULL
      )`);
    await q.query('CREATE INDEX denials_view_ts ON denials_view (ts, request_id)');
    for (const col of ['tenant_id', 'api_key_id', 'provider']) {
      await q.query(`CREATE INDEX denials_view_${col} ON denials_view (${col}, ts, request_id)`);
    }
    await q.query('CREATE INDEX denials_view_dims ON denials_view USING gin (dims jsonb_path_ops)');

    // Spend, tokens and requests per time bucket; cost sums are exact NUMERIC; unknown costs are counted, not $0.
    const measures = `
        requests          bigint NOT NULL DEFAULT 0,
        prompt_tokens     bigint NOT NULL DEFAULT 0,
        completion_tokens bigint NOT NULL DEFAULT 0,
        total_tokens      bigint NOT NULL DEFAULT 0,
        cache_read_tokens bigint NOT NULL DEFAULT 0,
        cache_write_tokens bigint NOT NULL DEFAULT 0,
        reasoning_tokens  bigint NOT NULL DEFAULT 0,
        cost_usd          numeric NOT NULL DEFAULT 0,
        unpriced_requests bigint NOT NULL DEFAULT 0`;
    await q.query(`
      CREATE TABLE usage_aggregates (
        bucket       text NOT NULL CHECK (bucket IN ('hour', 'day')),
        bucket_start timestamptz NOT NULL,
        tenant_id    text NOT NULL,
        api_key_id   text NOT NULL,
        provider     text NOT NULL,
        model        text NOT NULL,
        ${measures},
        PRIMARY KEY (bucket, bucket_start, tenant_id, api_key_id, provider, model)
      )`);
    await q.query(`
      CREATE TABLE usage_dim_aggregates (
        bucket       text NOT NULL CHECK (bucket IN ('hour', 'day')),
        bucket_start timestamptz NOT NULL,
        tenant_id    text NOT NULL,
        dim_key      text NOT NULL,
        dim_value    text NOT NULL,
        ${measures},
        PRIMARY KEY (bucket, bucket_start, dim_key, dim_value, tenant_id)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['usage_dim_aggregates', 'usage_aggregates', 'denials_view', 'usage_events_view']) {
      await q.query(`DROP TABLE ${t}`);
    }
  }
}
