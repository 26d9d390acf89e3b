// The API's side of analytics: what it asks the read model (interval, groups, limit) and how it answers.
import type { AnalyticsReport, AnalyticsReportRequest, UsageReadModel } from '@spendops/contracts';
import { ApiError } from '../common/api-error';
import { AnalyticsService } from './analytics.service';

const EMPTY: AnalyticsReport = {
  totals: {
    requests: 0,
    prompt_tokens: 0,
    completion_tokens: 0,
    total_tokens: 0,
    cache_read_tokens: 0,
    cache_write_tokens: 0,
    reasoning_tokens: 0,
    unpriced_requests: 0,
    cost_usd: '0.000000000',
  },
  groups: [],
  series: [],
  groups_total: 0,
  limit: 10,
};

function service(): { svc: AnalyticsService; asked: AnalyticsReportRequest[] } {
  const asked: AnalyticsReportRequest[] = [];
  const readModel = {
    analyticsReport: (q: AnalyticsReportRequest) => {
      asked.push(q);
      if (q.limit === 5000)
        return Promise.reject(Object.assign(new Error('invalid limit: too many'), { param: 'limit' }));
      return Promise.resolve({ ...EMPTY, limit: q.limit ?? 10 });
    },
  } as unknown as UsageReadModel;
  return { svc: new AnalyticsService(readModel), asked };
}

describe('AnalyticsService', () => {
  it('asks for the interval, groups and limit given, day and the default limit when not', async () => {
    const { svc, asked } = service();
    const res = await svc.query({
      from: '2030-01-01T00:00:00Z',
      to: '2030-01-31T00:00:00Z',
      group_by: 'provider, model',
      limit: '3',
      interval: 'hour',
    });
    expect(asked[0]).toEqual({
      from: '2030-01-01T00:00:00Z',
      to: '2030-01-31T00:00:00Z',
      interval: 'hour',
      groupBy: ['provider', 'model'],
      tenant_id: undefined,
      limit: 3,
    });
    expect(res).toMatchObject({
      interval: 'hour',
      group_by: ['provider', 'model'],
      limit: 3,
      groups_total: 0,
    });
    await svc.query({ from: '2030-01-01T00:00:00Z', to: '2030-01-31T00:00:00Z' });
    expect(asked[1]).toMatchObject({ interval: 'day', groupBy: [], limit: undefined });
  });

  it('interval=auto: hourly up to two days, daily beyond', async () => {
    const { svc } = service();
    const short = await svc.query({
      from: '2030-01-01T00:00:00Z',
      to: '2030-01-03T00:00:00Z',
      interval: 'auto',
    });
    const long = await svc.query({
      from: '2030-01-01T00:00:00Z',
      to: '2030-01-03T00:00:01Z',
      interval: 'auto',
    });
    expect([short.interval, long.interval]).toEqual(['hour', 'day']);
  });

  it.each([
    ['limit', { limit: 'ten' }],
    ['limit', { limit: '-1' }],
    ['limit', { limit: '5000' }],
    ['group_by', { group_by: 'colour' }],
    ['to', { to: '2029-01-01T00:00:00Z' }],
  ])('a bad %s is a 400 naming it', async (param, extra) => {
    const { svc } = service();
    const err: unknown = await svc
      .query({ from: '2030-01-01T00:00:00Z', to: '2030-01-31T00:00:00Z', ...extra })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError & { param: string }).param).toBe(param);
  });
});
