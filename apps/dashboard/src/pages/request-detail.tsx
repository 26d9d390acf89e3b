// One request: what was called, the token buckets, the cost and how it was priced, its re-pricing history, and the
// provider's raw usage.
import type { AdminApi, UsageEvent } from '../api';
import { count, usdExact } from '../format';
import { Link } from '../router';
import { dateTime, Empty, Loaded, useLoad } from '../ui';
import { RepricingHistory } from './request-repricings';

const BUCKETS: [keyof UsageEvent, string][] = [
  ['prompt_tokens', 'Input tokens'],
  ['completion_tokens', 'Output tokens'],
  ['total_tokens', 'Total tokens'],
  ['cache_read_tokens', 'Cache read tokens'],
  ['cache_write_tokens', 'Cache write tokens'],
  ['cache_write_5m_tokens', 'Cache write (5 min)'],
  ['cache_write_1h_tokens', 'Cache write (1 h)'],
  ['reasoning_tokens', 'Reasoning tokens'],
  ['prompt_audio_tokens', 'Input audio tokens'],
  ['prompt_image_tokens', 'Input image tokens'],
  ['completion_audio_tokens', 'Output audio tokens'],
  ['completion_image_tokens', 'Output image tokens'],
  ['web_search_requests', 'Web searches'],
  ['image_count', 'Images'],
  ['input_characters', 'Input characters'],
];

function Facts({ rows, label }: { rows: [string, string][]; label: string }) {
  return (
    <dl class="facts" aria-label={label}>
      {rows.map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </dl>
  );
}

function latency(e: UsageEvent): string {
  if (e.started_at_ms == null || e.ended_at_ms == null) return '—';
  const first = e.first_byte_at_ms != null ? `, first byte ${e.first_byte_at_ms - e.started_at_ms} ms` : '';
  return `${e.ended_at_ms - e.started_at_ms} ms${first}`;
}

export function RequestDetailPage({ api, id }: { api: AdminApi; id: string }) {
  const [load, reload] = useLoad(
    () => api.get<{ events: UsageEvent[] }>('/api/v1/events', { request_id: id, limit: '1' }),
    [api, id],
  );
  return (
    <>
      <p>
        <Link href="/requests">← All requests</Link>
      </p>
      <h1 tabIndex={-1}>
        Request <span class="mono">{id}</span>
      </h1>
      <Loaded load={load} retry={reload} what="the request">
        {({ events }) => {
          const e = events[0];
          if (!e)
            return (
              <Empty>No usage event with this request id (yet: the ledger records it within seconds).</Empty>
            );
          const buckets = BUCKETS.filter(([k]) => e[k] !== null && e[k] !== undefined && e[k] !== 0).map(
            ([k, label]): [string, string] => [label, count(e[k] as number)],
          );
          return (
            <>
              <div class="cards">
                <section class="card" aria-label="Total cost">
                  <h2>Total cost</h2>
                  <p class="big" data-testid="request-cost">
                    {usdExact(e.total_cost_usd)}
                  </p>
                  <p class="hint">{e.cost_source ? `source: ${e.cost_source}` : 'no price known'}</p>
                </section>
                <section class="card" aria-label="Model">
                  <h2>Model</h2>
                  <p class="big small" data-testid="request-model">
                    {e.model ?? '—'}
                  </p>
                  <p class="hint">{e.provider}</p>
                </section>
              </div>
              <div class="columns">
                <section class="panel">
                  <h2>Request</h2>
                  <Facts
                    label="Request"
                    rows={[
                      ['Time', dateTime(e.ts)],
                      ['Provider', e.provider],
                      ['Endpoint', `${e.method} ${e.endpoint}`],
                      ['Model', e.model ?? '—'],
                      ['Response model', e.response_model ?? '—'],
                      ['Stream', e.stream ? 'yes' : 'no'],
                      ['Outcome', `${e.outcome} (HTTP ${e.http_status ?? '—'})`],
                      ['Latency', latency(e)],
                      ['Tenant', e.tenant_id],
                      ['Key', e.api_key_id],
                      [
                        'Dimensions',
                        Object.entries(e.dims)
                          .map(([k, v]) => `${k}=${v}`)
                          .join(', ') || '—',
                      ],
                    ]}
                  />
                </section>
                <section class="panel">
                  <h2>Tokens</h2>
                  {buckets.length ? (
                    <Facts label="Token buckets" rows={buckets} />
                  ) : (
                    <Empty>The provider reported no usage.</Empty>
                  )}
                  <p class="hint">usage source: {e.usage_source ?? '—'}</p>
                </section>
                <section class="panel">
                  <h2>Cost</h2>
                  <Facts
                    label="Cost breakdown"
                    rows={[
                      ['Total', usdExact(e.total_cost_usd)],
                      ['Calculated from prices', usdExact(e.calculated_cost)],
                      ['Reported by the provider', usdExact(e.provider_cost)],
                      ['Cost source', e.cost_source ?? '—'],
                      ['Priced as', e.pricing_model ?? '—'],
                      ['Price list version', e.pricing_version ?? '—'],
                    ]}
                  />
                </section>
              </div>
              <RepricingHistory api={api} id={id} />
              <section class="panel">
                <h2>Raw usage</h2>
                <pre data-testid="raw-usage">
                  {e.raw_usage == null ? 'none' : JSON.stringify(e.raw_usage, null, 2)}
                </pre>
              </section>
            </>
          );
        }}
      </Loaded>
    </>
  );
}
