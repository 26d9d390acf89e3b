// Reads back what a load run left in the ledger (admin API and the event store itself) and tallies it against
// what was sent: stored, lost, duplicated, and events whose outcome or usage differ from the mix's expectation.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { request } from 'undici';
import { EXPECTED, SentRequest } from './mixed-load';

export interface StoredEvent {
  request_id: string;
  outcome: string;
  http_status: number;
  usage_source: string;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  dims: Record<string, string>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every event of the run, paged through `GET /api/v1/events?dim.run=RUN` (null when the API is unreachable). */
export async function fetchRunEvents(
  apiUrl: string,
  token: string,
  run: string,
): Promise<Map<string, StoredEvent> | null> {
  const events = new Map<string, StoredEvent>();
  let next: string | null = null;
  try {
    do {
      const qs = `dim.run=${run}&limit=1000${next ? `&next=${encodeURIComponent(next)}` : ''}`;
      const res = await request(`${apiUrl}/api/v1/events?${qs}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      if (res.statusCode !== 200) {
        await res.body.text();
        return null;
      }
      const page = (await res.body.json()) as { events: StoredEvent[]; next?: string | null };
      for (const e of page.events) events.set(e.request_id, e);
      next = page.next ?? null;
    } while (next);
  } catch {
    return null;
  }
  return events;
}

/** Polls until every id in `ids` has its event (or `timeoutMs` passes); returns what is there. */
export async function waitForEvents(
  apiUrl: string,
  token: string,
  run: string,
  ids: string[],
  timeoutMs: number,
): Promise<Map<string, StoredEvent>> {
  const deadline = Date.now() + timeoutMs;
  let last = new Map<string, StoredEvent>();
  for (;;) {
    const got = await fetchRunEvents(apiUrl, token, run);
    if (got) last = got;
    if (ids.every((id) => last.has(id)) || Date.now() > deadline) return last;
    await sleep(250);
  }
}

/** UsageRecorded rows per request id in the event store for the run (the store itself, not a read model). */
export async function storeCounts(databaseUrl: string, run: string): Promise<Map<string, number>> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ stream_id: string; n: number }>(
      `SELECT stream_id, count(*)::int AS n FROM events
        WHERE type = 'UsageRecorded' AND data->'dims'->>'run' = $1 GROUP BY stream_id`,
      [run],
    );
    return new Map(rows.map((r) => [r.stream_id, r.n]));
  } finally {
    await client.end();
  }
}

/** The URL of the embedded PostgreSQL an all-in-one server runs in `dataDir` (while it runs). */
export function embeddedDatabaseUrl(dataDir: string): string {
  const pid = readFileSync(join(dataDir, 'postgres', 'postmaster.pid'), 'utf8').split('\n');
  const password = readFileSync(join(dataDir, 'postgres.password'), 'utf8').trim();
  return `postgres://spendops:${encodeURIComponent(password)}@127.0.0.1:${Number(pid[3])}/spendops`;
}

export interface Tally {
  sent: number;
  stored: number;
  duplicates: number;
  lost: number;
  /** Events of the run nobody sent (should be 0 too). */
  unexpected: number;
  /** Events whose outcome or usage differ from the mix's expectation, described. */
  wrong: string[];
  lostIds: string[];
}

/**
 * `sent`: the requests the proxy forwarded and answered with a request id. `events`: the run's events from the
 * API. `counts`: UsageRecorded rows per request id in the store.
 */
export function tally(
  sent: SentRequest[],
  events: Map<string, StoredEvent>,
  counts: Map<string, number>,
): Tally {
  const ids = new Set(sent.map((s) => s.requestId!));
  const lostIds = [...ids].filter((id) => !events.has(id) || !counts.has(id));
  let duplicates = 0;
  for (const n of counts.values()) duplicates += n - 1;
  const unexpected = [...events.keys()].filter((id) => !ids.has(id)).length;
  const wrong: string[] = [];
  for (const s of sent) {
    const e = events.get(s.requestId!);
    if (!e) continue;
    const want = EXPECTED[s.kind];
    const got = {
      outcome: e.outcome,
      http_status: e.http_status,
      usage_source: want.usage_source === null ? null : e.usage_source,
      prompt_tokens: want.prompt_tokens === null ? null : e.prompt_tokens,
      completion_tokens: want.completion_tokens === null ? null : e.completion_tokens,
    };
    if (JSON.stringify(got) !== JSON.stringify(want))
      wrong.push(`${s.kind} ${s.requestId}: got ${JSON.stringify(got)}`);
  }
  return {
    sent: ids.size,
    stored: [...ids].filter((id) => events.has(id)).length,
    duplicates,
    lost: lostIds.length,
    unexpected,
    wrong,
    lostIds,
  };
}

/** One line for the test log. */
export function report(name: string, t: Tally, extra: Record<string, number> = {}): void {
  const parts = { sent: t.sent, stored: t.stored, duplicates: t.duplicates, lost: t.lost, ...extra };
  console.log(
    `${name}: ${Object.entries(parts)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}${t.wrong.length ? ` wrong=${t.wrong.length} e.g. ${t.wrong[0]}` : ''}`,
  );
}
