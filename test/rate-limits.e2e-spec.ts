// Rate limits across two proxy processes over a real RabbitMQ (docs/rate-limits.md): a key limited to N requests
// per minute, a burst of 3N concurrent requests spread over both proxies. The stated bound is N + P − 1 admitted
// per window with P live proxies (each admits at most ceil(N / P)); every other request is a 429 rate_limited with
// Retry-After and the RateLimit headers, recorded as a denial. Then a tokens-per-minute limit, counted from the
// usage the real ledger records, stops the key on both proxies.
//
// The key is created with the CLI; its rate limits are set with the auth service's update-policy command on the
// bus (the command the admin API's PATCH /api/v1/keys/{id} sends), and the keys API shows them.
import { randomUUID } from 'node:crypto';
import { request } from 'undici';
import { Commands, type KeyReply, type KeysUpdatePolicyRequest, type RateLimits } from '@spendops/contracts';
import { RabbitMqBus } from '@spendops/messaging';
import { MockProvider, openAiChatJson, startMockProvider } from '@spendops/testing';
import { Cluster, startCluster } from './support/cluster';
import { runCli } from './support/spendops-process';

jest.setTimeout(240_000);

const N = 20;
const PROXIES = 2;
const BOUND = N + PROXIES - 1;
const RUN = `rl-${randomUUID().slice(0, 8)}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Sent {
  status: number;
  requestId: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

describe('rate limits: two proxies over RabbitMQ', () => {
  let mock: MockProvider;
  let cluster: Cluster;
  let bus: RabbitMqBus;

  const chat = async (proxy: number, key: string, run = RUN): Promise<Sent> => {
    const res = await request(`${cluster.proxyUrls()[proxy]}/v1/openai/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-aso-api-key': key, 'x-aso-dims': `run=${run}` },
      body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }),
    });
    return {
      status: res.statusCode,
      requestId: String(res.headers['x-aso-request-id']),
      headers: res.headers,
      body: await res.body.text(),
    };
  };
  const api = async <T>(path: string): Promise<T> => {
    const res = await request(`${cluster.apiUrl()}${path}`, {
      headers: { authorization: `Bearer ${cluster.adminToken}` },
    });
    expect(res.statusCode).toBe(200);
    return (await res.body.json()) as T;
  };
  const until = async (what: string, check: () => boolean | Promise<boolean>, ms = 30_000) => {
    const deadline = Date.now() + ms;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleep(100);
    }
  };
  const createKey = async (name: string): Promise<{ id: string; key: string }> => {
    const created = await runCli(
      ['keys', 'create', '--name', name, '--dims-allowed', 'run', '--json'],
      cluster.env,
    );
    expect(created.code).toBe(0);
    return JSON.parse(created.stdout) as { id: string; key: string };
  };
  const setLimits = async (id: string, rate_limits: RateLimits): Promise<void> => {
    const reply = await bus.request<KeysUpdatePolicyRequest, KeyReply>(
      Commands.keysUpdatePolicy,
      { id, policy: { rate_limits }, actor: 'e2e' },
      { timeoutMs: 10_000 },
    );
    expect(reply.key.policy.rate_limits).toEqual(rate_limits);
  };

  beforeAll(async () => {
    mock = await startMockProvider({
      headersDelayMs: 150, // the requests of a burst are in flight together
      body: {
        ...openAiChatJson('gpt-4o'),
        usage: { prompt_tokens: 1000, completion_tokens: 500, total_tokens: 1500 },
      },
    });
    cluster = await startCluster({ SPENDOPS_UPSTREAM_OPENAI: mock.url }, { proxies: PROXIES });
    bus = new RabbitMqBus({ url: cluster.rabbit.url, connectionName: 'rate-limits e2e' });
    await bus.start();
    await bus.waitUntilConnected(10_000);
  });

  afterAll(async () => {
    await bus?.close();
    await cluster?.destroy();
    await mock?.close();
  });

  it(`admits at most N + P − 1 = ${BOUND} of ${3 * N} concurrent requests over both proxies; the rest are 429 with Retry-After`, async () => {
    const { id, key } = await createKey('rate-limited');
    await setLimits(id, { requests_per_minute: N });
    const view = await api<{ policy: { rate_limits: RateLimits } }>(`/api/v1/keys/${id}`);
    expect(view.policy.rate_limits).toEqual({ requests_per_minute: N });

    // The burst and the probes stay within one fixed minute window (the counters are aligned to the minute).
    if (Date.now() % 60_000 > 50_000) await sleep(61_000 - (Date.now() % 60_000));
    // Each proxy has the new policy and sees the other live: its share is ceil(N / 2) = 10, 9 left after a probe.
    let probes = 0;
    for (const proxy of [0, 1]) {
      await until(`proxy${proxy} to limit the key`, async () => {
        const probe = await chat(proxy, key, `${RUN}-probe`);
        expect(probe.status).toBe(200);
        if (probe.headers['ratelimit'] !== undefined) probes++;
        return probe.headers['ratelimit'] !== undefined;
      });
    }
    expect(probes).toBe(2);

    const sent = await Promise.all(Array.from({ length: 3 * N }, (_, i) => chat(i % PROXIES, key)));
    const admitted = sent.filter((s) => s.status === 200);
    const denied = sent.filter((s) => s.status !== 200);
    expect(probes + admitted.length).toBeLessThanOrEqual(BOUND);
    // An even load uses every proxy's share: nothing is refused below the limit.
    expect(probes + admitted.length).toBeGreaterThanOrEqual(N);
    for (const s of admitted) {
      expect(s.headers['ratelimit-policy']).toBe('"requests";q=20;w=60');
      expect(s.headers['ratelimit']).toMatch(/^"requests";r=\d+;t=\d+$/);
    }
    for (const s of denied) {
      expect(s.status).toBe(429);
      expect(JSON.parse(s.body)).toEqual({
        error: expect.stringMatching(
          /^AISpendOps: Rate limit exceeded: 20 requests per minute for this key; retry in \d+ s$/,
        ),
      });
      expect(Number(s.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(s.headers['ratelimit']).toMatch(/^"requests";r=0;t=\d+$/);
      expect(s.headers['ratelimit-policy']).toBe('"requests";q=20;w=60');
    }

    // Every 429 is recorded as a denial of type rate_limited.
    type Denial = { request_id: string; type: string; http_status: number; api_key_id: string };
    let denials: Denial[] = [];
    await until('the denials to be recorded', async () => {
      denials = (await api<{ denials: Denial[] }>(`/api/v1/denials?dim.run=${RUN}&limit=1000`)).denials;
      return denials.length >= denied.length;
    });
    expect(new Set(denials.map((d) => d.request_id))).toEqual(new Set(denied.map((s) => s.requestId)));
    expect(
      denials.every((d) => d.type === 'rate_limited' && d.http_status === 429 && d.api_key_id === id),
    ).toBe(true);
  });

  it('stops a key on both proxies once the recorded usage reaches its tokens-per-minute limit', async () => {
    const { id, key } = await createKey('token-limited');
    await setLimits(id, { tokens_per_minute: 2000 });
    await until(
      'proxy0 to limit the key',
      async () => (await chat(0, key)).headers['ratelimit'] !== undefined,
    );
    // Each answer reports 1500 tokens: once the ledger has recorded two, both proxies refuse the key.
    await chat(0, key);
    for (const proxy of [0, 1]) {
      await until(`proxy${proxy} to refuse the key`, async () => {
        const s = await chat(proxy, key);
        if (s.status === 200) return false;
        expect(s.status).toBe(429);
        expect(JSON.parse(s.body).error).toMatch(
          /^AISpendOps: Rate limit exceeded: 2000 tokens per minute for this key/,
        );
        expect(s.headers['ratelimit']).toMatch(/^"tokens";r=0;t=\d+$/);
        expect(s.headers['ratelimit-policy']).toBe('"tokens";q=2000;w=60;qu="tokens"');
        return true;
      });
    }
  });
});
