// A request's re-pricing history: every UsageRepriced of it (GET /api/v1/events/{request_id}/repricings), when,
// by whom, why, and the total cost before → after.
import type { AdminApi } from '../api';
import { usdExact } from '../format';
import { dateTime, Empty, Loaded, useLoad } from '../ui';

export interface Repricing {
  at: string;
  actor: string;
  reason: string;
  previous_total_cost_usd: string | null;
  total_cost_usd: string | null;
}

export function RepricingHistory({ api, id }: { api: AdminApi; id: string }) {
  const [load, reload] = useLoad(
    () => api.get<{ repricings: Repricing[] }>(`/api/v1/events/${encodeURIComponent(id)}/repricings`),
    [api, id],
  );
  return (
    <section class="panel" aria-labelledby="repricing-history">
      <h2 id="repricing-history">Re-pricing history</h2>
      <Loaded load={load} retry={reload} what="the re-pricing history">
        {({ repricings }) =>
          repricings.length === 0 ? (
            <Empty>Never re-priced: the cost is the one recorded with the request.</Empty>
          ) : (
            <table data-testid="repricing-history">
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">By</th>
                  <th scope="col">Reason</th>
                  <th scope="col">Total cost</th>
                </tr>
              </thead>
              <tbody>
                {repricings.map((r, i) => (
                  <tr key={i}>
                    <td>{dateTime(r.at)}</td>
                    <td>{r.actor}</td>
                    <td>{r.reason}</td>
                    <td>
                      {usdExact(r.previous_total_cost_usd)} → {usdExact(r.total_cost_usd)}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </Loaded>
    </section>
  );
}
