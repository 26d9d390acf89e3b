// The run store on a real PostgreSQL (PRICING_MIGRATIONS): what the admin API polls, and the stale rule.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openDataSource, type OpenedDataSource } from '@spendops/persistence';
import { startPostgres, type TestPostgres } from '@spendops/testing';
import { PRICING_MIGRATIONS } from '../overrides/pricing-overrides.migration';
import { PostgresRepriceRuns, REPRICE_STALE_MS, type RepriceRunStart } from './reprice-runs';

jest.setTimeout(60_000);

let pg: TestPostgres;
let opened: OpenedDataSource;
let dataDir: string;
let runs: PostgresRepriceRuns;

beforeAll(async () => {
  [pg, dataDir] = await Promise.all([startPostgres(), mkdtemp(path.join(tmpdir(), 'spendops-runs-'))]);
  opened = await openDataSource({ databaseUrl: pg.url, dataDir, migrations: PRICING_MIGRATIONS });
  runs = new PostgresRepriceRuns(opened.dataSource);
});

afterAll(async () => {
  await opened?.close();
  await pg?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

const start = (over: Partial<RepriceRunStart> = {}): Promise<string | null> =>
  runs.start({
    trigger: 'manual',
    actor: 'admin-api:alice',
    selection: { unpriced_only: false, from: '2026-11-01T00:00:00.000Z', to: '2026-12-01T00:00:00.000Z' },
    catalogVersion: 'builtin-abc',
    overridesVersion: 3,
    ...over,
  });

/** Moves a run's heartbeat back, as if its process had stopped writing it that long ago. */
const silentFor = (id: string, ms: number) =>
  opened.dataSource.query(
    `UPDATE pricing_reprice_runs SET heartbeat_at = now() - make_interval(secs => $2) WHERE id = $1`,
    [id, ms / 1000],
  );

it('a run is running with its counts so far, then succeeded; the list is newest first', async () => {
  const id = (await start())!;
  expect(await runs.get(id)).toMatchObject({
    id,
    status: 'running',
    trigger: 'manual',
    actor: 'admin-api:alice',
    selection: { unpriced_only: false, from: '2026-11-01T00:00:00.000Z', to: '2026-12-01T00:00:00.000Z' },
    catalog_version: 'builtin-abc',
    overrides_version: 3,
    finished_at: null,
    examined: 0,
    changed: 0,
    before_usd: '0',
    after_usd: '0',
    error: null,
  });
  expect(await runs.progress(id, { examined: 500, changed: 20, beforeUsd: '1.5', afterUsd: '2.25' })).toBe(
    true,
  );
  expect(await runs.get(id)).toMatchObject({
    status: 'running',
    examined: 500,
    changed: 20,
    after_usd: '2.25',
  });
  await runs.finish(id, { examined: 700, changed: 30, beforeUsd: '2', afterUsd: '3' });
  const done = await runs.get(id);
  expect(done).toMatchObject({
    status: 'succeeded',
    examined: 700,
    changed: 30,
    before_usd: '2',
    after_usd: '3',
  });
  expect(Date.parse(done!.finished_at!)).toBeGreaterThanOrEqual(Date.parse(done!.started_at));
  expect(await runs.progress(id, { examined: 1, changed: 0, beforeUsd: '0', afterUsd: '0' })).toBe(false);

  const failed = (await start({ trigger: 'override 4 added' }))!;
  await runs.finish(failed, { examined: 3, changed: 1, beforeUsd: '0', afterUsd: '1', error: 'bus down' });
  expect(await runs.get(failed)).toMatchObject({ status: 'failed', error: 'bus down', examined: 3 });
  const listed = await runs.list(2);
  expect(listed.map((r) => r.id)).toEqual([failed, id]);
  expect(await runs.get('999999')).toBeNull();
  expect(await runs.get('abc')).toBeNull();
});

it('a running run whose heartbeat is older than the stale bound is failed once, naming its last heartbeat', async () => {
  const fresh = (await start())!;
  const stale = (await start())!;
  await silentFor(fresh, REPRICE_STALE_MS - 30_000);
  await silentFor(stale, REPRICE_STALE_MS + 30_000);
  const [{ beat }]: { beat: Date }[] = await opened.dataSource.query(
    'SELECT heartbeat_at AS beat FROM pricing_reprice_runs WHERE id = $1',
    [stale],
  );
  const view = await runs.get(stale);
  expect(view).toMatchObject({
    status: 'failed',
    error: `abandoned: no heartbeat since ${beat.toISOString()} (the process running it stopped)`,
  });
  expect(view!.finished_at).not.toBeNull();
  expect((await runs.get(fresh))!.status).toBe('running');
  // The dead process, should it come back, cannot revive or re-end the run.
  expect(await runs.progress(stale, { examined: 9, changed: 9, beforeUsd: '0', afterUsd: '9' })).toBe(false);
  await runs.finish(stale, { examined: 9, changed: 9, beforeUsd: '0', afterUsd: '9' });
  expect(await runs.get(stale)).toMatchObject({ status: 'failed', examined: 0 });
  expect(await runs.failStale()).toBe(0);
  await runs.finish(fresh, { examined: 0, changed: 0, beforeUsd: '0', afterUsd: '0' });
});

it('starting a run fails the abandoned ones even when nobody reads them', async () => {
  const dead = (await start())!;
  await silentFor(dead, REPRICE_STALE_MS * 2);
  await start();
  const [row]: { error: string | null }[] = await opened.dataSource.query(
    'SELECT error FROM pricing_reprice_runs WHERE id = $1',
    [dead],
  );
  expect(row.error).toMatch(/^abandoned: no heartbeat since /);
});
