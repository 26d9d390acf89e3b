// Budgets: each budget's spend this period against its amount (a bar with the threshold marks), the period, the
// month-end forecast, whether it is enforced or used up, and its alert history with each delivery's status.
// Every number is the admin API's (GET /api/v1/budgets, /api/v1/budgets/{id}/alerts).
import type { AdminApi } from '../api';
import { usd } from '../format';
import { dateTime, Empty, Loaded, useLoad } from '../ui';
import './budgets.css';
import { barScale, periodName, scopeText, type Budget, type BudgetAlert } from './budgets-types';

function BudgetBar({ b }: { b: Budget }) {
  const used = Number(b.percent_used);
  const scale = barScale(used, b.thresholds);
  const tone =
    b.exhausted || used >= 100 ? 'over' : b.thresholds.some((t) => t < 100 && used >= t) ? 'warn' : '';
  return (
    <div
      class="budget-bar"
      role="meter"
      aria-label={`${b.name}: spent of amount`}
      aria-valuemin={0}
      aria-valuemax={Number(b.amount_usd)}
      aria-valuenow={Math.min(Number(b.spent_usd), Number(b.amount_usd))}
      aria-valuetext={`${usd(b.spent_usd)} of ${usd(b.amount_usd)} (${b.percent_used}%)`}
      data-testid="budget-bar"
    >
      <div class={`fill ${tone}`} style={{ width: `${scale.at(used)}%` }} />
      {b.thresholds.map((t) => (
        <div key={t} class="mark" style={{ left: `${scale.at(t)}%` }} aria-hidden="true">
          <span>{t}%</span>
        </div>
      ))}
    </div>
  );
}

function Deliveries({ alert }: { alert: BudgetAlert }) {
  if (alert.deliveries.length === 0) return <>—</>;
  return (
    <ul class="plain">
      {alert.deliveries.map((d, i) => (
        <li key={i} class={`delivery ${d.status}`}>
          {d.channel} {d.target && <span class="mono">{d.target}</span>}: {d.status}
          {d.attempts > 1 || d.status === 'failed'
            ? ` after ${d.attempts} attempt${d.attempts === 1 ? '' : 's'}`
            : ''}
          {d.last_error && d.status !== 'delivered' ? ` (${d.last_error})` : ''}
        </li>
      ))}
    </ul>
  );
}

function AlertHistory({ api, budget }: { api: AdminApi; budget: Budget }) {
  const [load, reload] = useLoad(
    () => api.get<{ alerts: BudgetAlert[] }>(`/api/v1/budgets/${encodeURIComponent(budget.id)}/alerts`),
    [api, budget.id],
  );
  return (
    <details data-testid="budget-alerts">
      <summary>Alert history</summary>
      <Loaded load={load} retry={reload} what="alerts">
        {({ alerts }) =>
          alerts.length === 0 ? (
            <Empty>No threshold crossed yet.</Empty>
          ) : (
            <table>
              <caption class="hint">Thresholds crossed, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">Crossed at</th>
                  <th scope="col">Threshold</th>
                  <th scope="col">Spent then</th>
                  <th scope="col">Notifications</th>
                </tr>
              </thead>
              <tbody>
                {alerts.map((a) => (
                  <tr key={`${a.period_start}-${a.threshold}`}>
                    <td>{dateTime(a.crossed_at)}</td>
                    <td>{a.threshold}%</td>
                    <td>{usd(a.spent_usd)}</td>
                    <td>
                      <Deliveries alert={a} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </Loaded>
    </details>
  );
}

function BudgetCard({ api, b }: { api: AdminApi; b: Budget }) {
  const overForecast = Number(b.forecast_usd) > Number(b.amount_usd);
  return (
    <article class="panel budget" aria-labelledby={`budget-${b.id}`} data-testid={`budget-${b.id}`}>
      <div class="budget-head">
        <h2 id={`budget-${b.id}`}>{b.name}</h2>
        {b.enforce ? (
          <span class="badge enforce">Enforced</span>
        ) : (
          <span class="badge alerts-only">Alerts only</span>
        )}
        {b.exhausted && (
          <span class="badge exhausted" data-testid="budget-exhausted">
            Exhausted: requests in scope get 429
          </span>
        )}
        <span class="hint">{scopeText(b.scope)}</span>
      </div>
      <div class="numbers">
        <span>
          Spent <strong data-testid="budget-spent">{usd(b.spent_usd)}</strong> of{' '}
          <strong data-testid="budget-amount">{usd(b.amount_usd)}</strong> ({b.percent_used}%)
        </span>
        <span>
          Forecast{' '}
          <strong data-testid="budget-forecast" class={overForecast ? 'over' : ''}>
            {usd(b.forecast_usd)}
          </strong>{' '}
          by period end{overForecast ? ' (over the amount)' : ''}
        </span>
      </div>
      <BudgetBar b={b} />
      <p class="hint" data-testid="budget-period">
        {periodName(b)}: {dateTime(b.period_start)} → {dateTime(b.period_end)} ({b.time_zone})
        {b.owner ? ` · owner ${b.owner}` : ''}
      </p>
      <AlertHistory api={api} budget={b} />
    </article>
  );
}

export function BudgetsPage({ api }: { api: AdminApi }) {
  const [load, reload] = useLoad(() => api.get<{ budgets: Budget[] }>('/api/v1/budgets'), [api]);
  return (
    <>
      <h1 tabIndex={-1}>Budgets</h1>
      <Loaded load={load} retry={reload} what="budgets">
        {({ budgets }) =>
          budgets.length === 0 ? (
            <Empty>
              No budgets yet. Define one with <code>spendops budgets create</code>, the <code>budgets:</code>{' '}
              list of the config file, or <code>POST /api/v1/budgets</code>.
            </Empty>
          ) : (
            <div class="budgets" data-testid="budgets">
              {budgets.map((b) => (
                <BudgetCard key={b.id} api={api} b={b} />
              ))}
            </div>
          )
        }
      </Loaded>
    </>
  );
}
