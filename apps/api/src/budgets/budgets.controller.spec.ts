// The budget routes over a real Fastify server and the real in-process bus, with a small fake of the ledger's
// budget commands (the contract in libs/contracts/src/budgets.ts): status codes, the once-only webhook secret,
// 400s naming the field, 404s, the actor passed on, and ledger refusals/outages mapped.
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import {
  BudgetErrors,
  Commands,
  type BudgetAlertView,
  type BudgetView,
  type BudgetsCreateRequest,
  type BudgetsDeleteRequest,
  type BudgetsGetRequest,
  type BudgetsUpdateRequest,
} from '@spendops/contracts';
import { InProcessBus, MESSAGE_BUS } from '@spendops/messaging';
import request from 'supertest';
import { AdminAuthGuard } from '../admin-token/admin-auth.guard';
import { AdminTokenService } from '../admin-token/admin-token.service';
import { BudgetCommands } from './budget-commands';
import { BudgetsController } from './budgets.controller';
import { BudgetsService } from './budgets.service';

const TOKEN = 'aso_admin_test_token_1234';

function failing(name: string, message: string): Error {
  const err = new Error(message);
  err.name = name;
  return err;
}

/** The ledger's side of the contract, in memory: enough to see what the API sends and how it renders replies. */
class FakeLedger {
  budgets = new Map<string, BudgetView>();
  calls: { command: string; request: unknown }[] = [];
  alerts: BudgetAlertView[] = [];
  broken = false;
  private seq = 0;

  async serve(bus: InProcessBus): Promise<void> {
    const notFound = (id: string) => failing(BudgetErrors.notFound, `budget not found: ${id}`);
    const seen = <T>(command: string, request: T): T => {
      this.calls.push({ command, request });
      return request;
    };
    await bus.handle(Commands.budgetsCreate, async (r: BudgetsCreateRequest) => {
      const spec = seen(Commands.budgetsCreate, r).spec as Record<string, unknown>;
      if (spec.amount_usd === '999999999') throw failing(BudgetErrors.invalid, 'amount_usd: too large');
      const id = `bud_${(++this.seq).toString(16).padStart(16, '0')}`;
      const view = {
        time_zone: 'UTC',
        thresholds: [50, 75, 90, 100],
        enforce: false,
        scope: {},
        ...spec,
        id,
        created_at: '2026-12-02T07:00:00.000Z',
        updated_at: '2026-12-02T07:00:00.000Z',
        period_start: '2026-12-01T00:00:00.000Z',
        period_end: '2027-01-01T00:00:00.000Z',
        spent_usd: '0',
        percent_used: '0.00',
        forecast_usd: '0',
        exhausted: false,
      } as BudgetView;
      this.budgets.set(id, view);
      return { budget: view, webhook_secret: 'a'.repeat(64) };
    });
    await bus.handle(Commands.budgetsList, async (r: { tenant?: string }) => {
      if (this.broken) throw new TypeError('cannot read properties of undefined');
      seen(Commands.budgetsList, r);
      return { budgets: [...this.budgets.values()].filter((b) => !r.tenant || b.scope.tenant === r.tenant) };
    });
    await bus.handle(Commands.budgetsGet, async (r: BudgetsGetRequest) => {
      const b = this.budgets.get(seen(Commands.budgetsGet, r).id);
      if (!b) throw notFound(r.id);
      return { budget: b };
    });
    await bus.handle(Commands.budgetsUpdate, async (r: BudgetsUpdateRequest) => {
      const b = this.budgets.get(seen(Commands.budgetsUpdate, r).id);
      if (!b) throw notFound(r.id);
      const next = { ...b, ...(r.patch as object) };
      this.budgets.set(r.id, next);
      return { budget: next };
    });
    await bus.handle(Commands.budgetsDelete, async (r: BudgetsDeleteRequest) => {
      const b = this.budgets.get(seen(Commands.budgetsDelete, r).id);
      if (!b) throw notFound(r.id);
      this.budgets.delete(r.id);
      return { budget: b };
    });
    await bus.handle(Commands.budgetsAlerts, async (r: { budget_id: string }) => {
      seen(Commands.budgetsAlerts, r);
      return { alerts: this.alerts };
    });
  }
}

describe('BudgetsController', () => {
  let bus: InProcessBus;
  let ledger: FakeLedger;
  let app: NestFastifyApplication;

  const http = () => request(app.getHttpServer());
  const auth = { authorization: `Bearer ${TOKEN}` };
  const valid = {
    name: 'search team',
    period: 'month',
    amount_usd: '100.00',
    scope: { dims: { team: 'search' } },
  };

  beforeEach(async () => {
    bus = new InProcessBus();
    ledger = new FakeLedger();
    await ledger.serve(bus);
    const moduleRef = await Test.createTestingModule({
      controllers: [BudgetsController],
      providers: [
        BudgetsService,
        BudgetCommands,
        AdminAuthGuard,
        { provide: MESSAGE_BUS, useValue: bus },
        { provide: AdminTokenService, useValue: { verify: (t?: string) => t === TOKEN } },
      ],
    }).compile();
    app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger: false });
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
  });
  afterEach(async () => {
    await app?.close();
    await bus.close();
  });

  it('needs the admin token', async () => {
    const res = await http().get('/api/v1/budgets');
    expect(res.status).toBe(401);
    expect(res.body.error).toMatch(/^AISpendOps: /);
    expect((await http().get('/api/v1/budgets').set('authorization', 'Bearer nope')).status).toBe(401);
  });

  it('creates: 201 with the budget, its id and the webhook secret once; the actor reaches the ledger', async () => {
    const res = await http().post('/api/v1/budgets').set(auth).set('x-aso-actor', 'alice').send(valid);
    expect(res.status).toBe(201);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toMatchObject({ name: 'search team', amount_usd: '100.00', spent_usd: '0' });
    expect(res.body.id).toMatch(/^bud_[0-9a-f]{16}$/);
    expect(res.body.webhook_secret).toHaveLength(64);
    expect(ledger.calls[0]).toEqual({
      command: Commands.budgetsCreate,
      request: { spec: valid, actor: 'admin-api:alice' },
    });
    const got = await http().get(`/api/v1/budgets/${res.body.id}`).set(auth);
    expect(got.status).toBe(200);
    expect(got.body.webhook_secret).toBeUndefined();
    expect(got.body.id).toBe(res.body.id);
    const list = await http().get('/api/v1/budgets').set(auth);
    expect(list.body.budgets.map((b: BudgetView) => b.id)).toEqual([res.body.id]);
    expect(list.body.budgets[0].webhook_secret).toBeUndefined();
  });

  it("lists one tenant's budgets with ?tenant=, refusing unknown or repeated parameters", async () => {
    await http()
      .post('/api/v1/budgets')
      .set(auth)
      .send({ ...valid, scope: { tenant: 'acme' } });
    await http()
      .post('/api/v1/budgets')
      .set(auth)
      .send({ ...valid, name: 'other', scope: { tenant: 'globex' } });
    const acme = await http().get('/api/v1/budgets?tenant=acme').set(auth);
    expect(acme.body.budgets.map((b: BudgetView) => b.scope.tenant)).toEqual(['acme']);
    expect(ledger.calls.at(-1)).toEqual({ command: Commands.budgetsList, request: { tenant: 'acme' } });
    expect((await http().get('/api/v1/budgets').set(auth)).body.budgets).toHaveLength(2);
    const unknown = await http().get('/api/v1/budgets?team=x').set(auth);
    expect([unknown.status, unknown.body.param]).toEqual([400, 'team']);
    const twice = await http().get('/api/v1/budgets?tenant=a&tenant=b').set(auth);
    expect([twice.status, twice.body.param]).toEqual([400, 'tenant']);
  });

  it('passes every field of a full definition through unchanged', async () => {
    const full = {
      name: 'fiscal',
      scope: {
        tenant: 'acme',
        key_id: 'k1',
        provider: 'openai',
        model: 'gpt-4o',
        dims: { team: 'a', env: 'prod' },
      },
      period: 'fiscal_month',
      start_day: 15,
      time_zone: 'America/New_York',
      amount_usd: '1234.5678901234',
      thresholds: [25, 50, 100, 110],
      enforce: true,
      owner: 'finops@corp.example',
      webhook_url: 'https://hooks.corp.example/spend?x=1',
      slack_webhook_url: 'https://hooks.slack.com/services/T/B/X',
      email: ['finops@corp.example', 'cto@corp.example'],
    };
    const res = await http().post('/api/v1/budgets').set(auth).send(full);
    expect(res.status).toBe(201);
    expect((ledger.calls[0].request as BudgetsCreateRequest).spec).toEqual(full);
    const custom = {
      name: 'q1',
      period: 'custom',
      from: '2027-01-01T00:00:00Z',
      to: '2027-04-01T00:00:00Z',
      amount_usd: '5',
    };
    expect((await http().post('/api/v1/budgets').set(auth).send(custom)).status).toBe(201);
  });

  it.each([
    [{ ...valid, amount_usd: '-5' }, 'amount_usd'],
    [{ ...valid, amount_usd: '0.00' }, 'amount_usd'],
    [{ ...valid, amount_usd: 100 }, 'amount_usd'],
    [{ ...valid, amount_usd: '1e3' }, 'amount_usd'],
    [{ ...valid, amount_usd: '1.12345678901' }, 'amount_usd'],
    [{ name: 'x', period: 'month' }, 'amount_usd'],
    [{ amount_usd: '1', period: 'month' }, 'name'],
    [{ ...valid, period: 'year' }, 'period'],
    [{ ...valid, period: undefined }, 'period'],
    [{ ...valid, scope: { team: 'search' } }, 'scope.team'],
    [{ ...valid, scope: { tenant: '' } }, 'scope.tenant'],
    [{ ...valid, scope: { dims: { team: 7 } } }, 'scope.dims.team'],
    [{ ...valid, scope: { dims: { team: '' } } }, 'scope.dims.team'],
    [{ ...valid, time_zone: 'Mars/Olympus' }, 'time_zone'],
    [{ ...valid, period: 'fiscal_month', start_day: 29 }, 'start_day'],
    [{ ...valid, period: 'fiscal_month', start_day: 0 }, 'start_day'],
    [{ ...valid, period: 'week', start_day: 8 }, 'start_day'],
    [{ ...valid, period: 'day', start_day: 3 }, 'start_day'],
    [{ ...valid, period: 'custom' }, 'from'],
    [{ ...valid, period: 'custom', from: '2027-01-01T00:00:00Z' }, 'to'],
    [{ ...valid, period: 'custom', from: '2027-02-01T00:00:00Z', to: '2027-01-01T00:00:00Z' }, 'to'],
    [{ ...valid, period: 'custom', from: 'next tuesday', to: '2027-01-01T00:00:00Z' }, 'from'],
    [{ ...valid, from: '2027-01-01T00:00:00Z' }, 'from'],
    [{ ...valid, thresholds: [50, 50] }, 'thresholds[1]'],
    [{ ...valid, thresholds: [90, 50] }, 'thresholds[1]'],
    [{ ...valid, thresholds: [0] }, 'thresholds[0]'],
    [{ ...valid, thresholds: [50, 1001] }, 'thresholds[1]'],
    [{ ...valid, thresholds: [] }, 'thresholds'],
    [{ ...valid, thresholds: ['50'] }, 'thresholds'],
    [{ ...valid, enforce: 'yes' }, 'enforce'],
    [{ ...valid, webhook_url: 'http://hooks.example.com/x' }, 'webhook_url'],
    [{ ...valid, webhook_url: 'not a url' }, 'webhook_url'],
    [{ ...valid, slack_webhook_url: 'ftp://x' }, 'slack_webhook_url'],
    [{ ...valid, email: ['not-an-address'] }, 'email'],
    [{ ...valid, colour: 'red' }, 'colour'],
  ])('refuses %j with a 400 naming %s, without calling the ledger', async (body, field) => {
    const res = await http().post('/api/v1/budgets').set(auth).send(body);
    expect([res.status, res.body.param]).toEqual([400, field]);
    expect(res.body.error).toContain(field);
    expect(ledger.calls).toEqual([]);
  });

  it('accepts a webhook on this machine over plain http (tests, local relays)', async () => {
    const res = await http()
      .post('/api/v1/budgets')
      .set(auth)
      .send({ ...valid, webhook_url: 'http://127.0.0.1:9999/hook' });
    expect(res.status).toBe(201);
  });

  it('maps a refusal by the ledger to a 400 naming its field', async () => {
    const res = await http()
      .post('/api/v1/budgets')
      .set(auth)
      .send({ ...valid, amount_usd: '999999999' });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: 'AISpendOps: amount_usd: too large', param: 'amount_usd' });
  });

  it('404s unknown ids on every route, including ids that cannot be budget ids', async () => {
    for (const id of ['bud_00000000000000ff', 'nope', 'bud_XYZ']) {
      expect((await http().get(`/api/v1/budgets/${id}`).set(auth)).status).toBe(404);
      expect((await http().patch(`/api/v1/budgets/${id}`).set(auth).send({ amount_usd: '5' })).status).toBe(
        404,
      );
      expect((await http().delete(`/api/v1/budgets/${id}`).set(auth)).status).toBe(404);
      expect((await http().get(`/api/v1/budgets/${id}/alerts`).set(auth)).status).toBe(404);
    }
    const res = await http().get('/api/v1/budgets/bud_00000000000000ff').set(auth);
    expect(res.body.error).toBe('AISpendOps: budget not found: bud_00000000000000ff');
  });

  it('patches only the fields given, checks them, and passes the actor', async () => {
    const { body: created } = await http().post('/api/v1/budgets').set(auth).send(valid);
    const res = await http()
      .patch(`/api/v1/budgets/${created.id}`)
      .set(auth)
      .set('x-aso-actor', 'bob')
      .send({ amount_usd: '250', enforce: true });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: created.id, amount_usd: '250', enforce: true, name: 'search team' });
    expect(ledger.calls.find((c) => c.command === Commands.budgetsUpdate)?.request).toEqual({
      id: created.id,
      patch: { amount_usd: '250', enforce: true },
      actor: 'admin-api:bob',
    });
    const bad = await http().patch(`/api/v1/budgets/${created.id}`).set(auth).send({ amount_usd: '-1' });
    expect([bad.status, bad.body.param]).toEqual([400, 'amount_usd']);
    const unknown = await http().patch(`/api/v1/budgets/${created.id}`).set(auth).send({ id: 'bud_1' });
    expect([unknown.status, unknown.body.param]).toEqual([400, 'id']);
    const cleared = await http().patch(`/api/v1/budgets/${created.id}`).set(auth).send({ owner: null });
    expect(cleared.status).toBe(200);
    expect(ledger.calls.at(-1)).toMatchObject({
      command: Commands.budgetsUpdate,
      request: { patch: { owner: null } },
    });
    const required = await http().patch(`/api/v1/budgets/${created.id}`).set(auth).send({ name: null });
    expect([required.status, required.body.param]).toEqual([400, 'name']);
    const empty = await http().patch(`/api/v1/budgets/${created.id}`).set(auth).send({});
    expect([empty.status, empty.body.amount_usd]).toEqual([200, '250']);
  });

  it('deletes with 204, then the budget is gone', async () => {
    const { body: created } = await http().post('/api/v1/budgets').set(auth).send(valid);
    const res = await http().delete(`/api/v1/budgets/${created.id}`).set(auth).set('x-aso-actor', 'carol');
    expect(res.status).toBe(204);
    expect(ledger.calls.at(-1)?.request).toEqual({ id: created.id, actor: 'admin-api:carol' });
    expect((await http().get(`/api/v1/budgets/${created.id}`).set(auth)).status).toBe(404);
  });

  it('lists alerts with their deliveries', async () => {
    const { body: created } = await http().post('/api/v1/budgets').set(auth).send(valid);
    ledger.alerts = [
      {
        threshold: 50,
        crossed_at: '2026-12-02T07:10:00.000Z',
        spent_usd: '50.01',
        period_start: '2026-12-01T00:00:00.000Z',
        deliveries: [
          {
            channel: 'webhook',
            target: 'https://hooks.corp.example/spend',
            status: 'failed',
            attempts: 8,
            last_error: 'HTTP 500',
          },
        ],
      },
    ];
    const res = await http().get(`/api/v1/budgets/${created.id}/alerts`).set(auth);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ alerts: ledger.alerts });
    expect(ledger.calls.at(-1)).toEqual({
      command: Commands.budgetsAlerts,
      request: { budget_id: created.id },
    });
  });

  it('answers 502 "ledger unavailable" when the ledger does not serve budgets or fails unexpectedly', async () => {
    ledger.broken = true;
    const res = await http().get('/api/v1/budgets').set(auth);
    expect([res.status, res.body.error]).toEqual([502, 'AISpendOps: ledger unavailable']);
    const lonely = new InProcessBus();
    const commands = new BudgetCommands(lonely);
    await expect(commands.call(Commands.budgetsList, {})).rejects.toMatchObject({ status: 502 });
    await lonely.close();
  });
});
