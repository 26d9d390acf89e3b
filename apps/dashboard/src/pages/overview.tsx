// Where the money goes, at a glance: today, month to date, the month's forecast, the daily trend, and the top
// providers, models and teams this month.
import type { AdminApi, Analytics } from '../api';
import { StackedBars } from '../chart';
import {
  bucketStarts,
  count,
  monthForecast,
  monthToDate,
  stackSeries,
  today,
  usd,
  usdShort,
} from '../format';
import { Card, Empty, Loaded, useLoad } from '../ui';

interface OverviewData {
  month: Analytics;
  today: Analytics;
  providers: Analytics;
  models: Analytics;
  teams: Analytics;
  now: Date;
}

async function loadOverview(api: AdminApi): Promise<OverviewData> {
  const now = new Date();
  const month = monthToDate(now);
  const get = (group_by: string, range = month) =>
    api.get<Analytics>('/api/v1/analytics', { ...range, interval: 'day', group_by });
  const [m, t, providers, models, teams] = await Promise.all([
    get(''),
    get('', today(now)),
    get('provider'),
    get('model'),
    get('dim:team'),
  ]);
  return { month: m, today: t, providers, models, teams, now };
}

function TopList({
  title,
  data,
  by,
  testid,
}: {
  title: string;
  data: Analytics;
  by: string;
  testid: string;
}) {
  const rows = data.groups.slice(0, 5);
  return (
    <section class="panel" aria-label={title}>
      <h2>{title}</h2>
      {rows.length === 0 ? (
        <Empty>Nothing this month.</Empty>
      ) : (
        <table data-testid={testid}>
          <thead>
            <tr>
              <th scope="col">{by}</th>
              <th scope="col" class="num">
                Requests
              </th>
              <th scope="col" class="num">
                Spend
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map((g) => (
              <tr key={JSON.stringify(g.group)}>
                <td>{Object.values(g.group)[0] || '(none)'}</td>
                <td class="num">{count(g.requests)}</td>
                <td class="num">{usdShort(g.cost_usd)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

export function OverviewPage({ api }: { api: AdminApi }) {
  const [load, reload] = useLoad(() => loadOverview(api), [api]);
  return (
    <>
      <h1 tabIndex={-1}>Overview</h1>
      <Loaded load={load} retry={reload} what="spend">
        {(d) => {
          const month = monthToDate(d.now);
          // The whole month on the axis, so the first days of a month do not fill it.
          const monthEnd = new Date(
            Date.UTC(d.now.getUTCFullYear(), d.now.getUTCMonth() + 1, 1),
          ).toISOString();
          const trend = stackSeries(
            d.month.series,
            [],
            bucketStarts({ from: month.from, to: monthEnd }, 'day'),
          );
          return (
            <>
              <div class="cards">
                <Card
                  label="Month to date"
                  value={usd(d.month.totals.cost_usd)}
                  hint={`${count(d.month.totals.requests)} requests since ${month.from.slice(0, 10)} (UTC)`}
                  testid="mtd-spend"
                />
                <Card
                  label="Today"
                  value={usd(d.today.totals.cost_usd)}
                  hint={`${count(d.today.totals.requests)} requests`}
                  testid="today-spend"
                />
                <Card
                  label="Forecast this month"
                  value={usd(monthForecast(d.month.totals.cost_usd, d.now).toFixed(2))}
                  hint="if the rest of the month goes like so far"
                  testid="forecast"
                />
                <Card
                  label="Tokens this month"
                  value={count(d.month.totals.total_tokens)}
                  hint={`${count(d.month.totals.unpriced_requests)} requests without a price`}
                  testid="mtd-tokens"
                />
              </div>
              <section class="panel" aria-label="Daily spend">
                <h2>Daily spend this month</h2>
                {d.month.totals.requests === 0 ? (
                  <Empty>No requests this month yet. Send traffic through the proxy to see it here.</Empty>
                ) : (
                  <StackedBars data={trend} title="Daily spend this month" />
                )}
              </section>
              <div class="columns">
                <TopList title="Top providers" data={d.providers} by="Provider" testid="top-providers" />
                <TopList title="Top models" data={d.models} by="Model" testid="top-models" />
                <TopList title="Top teams" data={d.teams} by="Team (dimension team)" testid="top-teams" />
              </div>
            </>
          );
        }}
      </Loaded>
    </>
  );
}
