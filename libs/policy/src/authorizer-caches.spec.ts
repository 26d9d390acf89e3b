// The request path's caches (verified keys, compiled policies) must never outlive the state they were built
// from: a revocation, a rotation's end of grace or a policy change takes effect on the very next request.
import type { KeyPolicy, KeyRecord } from '@spendops/contracts';
import {
  compiledMatchModel,
  compiledModelsRestricted,
  compiledProviderAllowed,
  compilePolicy,
} from './compiled-policy';
import { evaluate } from './evaluate';
import { generateKey, hashKeyHex } from './key-format';
import { KeyReplica } from './key-replica';
import { PolicyAuthorizer } from './policy-authorizer';
import { withDefaults } from './policy-defaults';
import { canonicalProvider, matchModel, modelsRestricted, providerAllowed } from './providers';
import { issueKey } from './testing/key-records';

function setup(opts: { maxVerified?: number; resolve?: (id: string) => Promise<KeyRecord | null> } = {}) {
  // A copy per test: some tests overwrite it to prove that a remembered key is not hashed again.
  const secret = Buffer.alloc(32, 9);
  let now = Date.parse('2026-01-01T00:00:00Z');
  const clock = () => now;
  const replica = new KeyReplica({ now: clock, resolve: opts.resolve, missGapMs: 0 });
  const auth = new PolicyAuthorizer(replica, secret, clock, opts.maxVerified);
  return { secret, replica, auth, advance: (ms: number) => (now += ms), at: () => now };
}

const input = {
  provider: 'openai',
  dialect: 'openai-compatible' as const,
  endpoint: '/v1/chat/completions',
  content_type: 'application/json',
  body: Buffer.from('{"model":"gpt-4.1-mini","messages":[]}'),
  dims_header: undefined,
};

describe('verified-key cache', () => {
  it('a remembered key is not hashed again (changing the server secret under it does not matter)', async () => {
    const { secret, replica, auth } = setup();
    const { key, record } = issueKey(secret);
    replica.load([record]);
    expect((await auth.authenticate(key)).ok).toBe(true);
    secret.fill(0); // every new HMAC now differs from the stored hashes
    expect(await auth.authenticate(key)).toEqual({ ok: true, key: record });
    expect((await auth.authenticate(generateKey(record.id).key)).ok).toBe(false);
  });

  it('is bounded, least recently used out: an evicted key is verified (hashed) again', async () => {
    const { secret, replica, auth } = setup({ maxVerified: 2 });
    const a = issueKey(secret);
    const b = issueKey(secret);
    const c = issueKey(secret);
    replica.load([a.record, b.record, c.record]);
    for (const k of [a, b, a, c]) expect((await auth.authenticate(k.key)).ok).toBe(true); // b is the LRU
    secret.fill(0);
    expect((await auth.authenticate(a.key)).ok).toBe(true);
    expect((await auth.authenticate(c.key)).ok).toBe(true);
    expect(await auth.authenticate(b.key)).toMatchObject({ ok: false, type: 'invalid_key' });
  });

  it('with a size of 0 nothing is remembered', async () => {
    const { secret, replica, auth } = setup({ maxVerified: 0 });
    const { key, record } = issueKey(secret);
    replica.load([record]);
    expect((await auth.authenticate(key)).ok).toBe(true);
    secret.fill(0);
    expect((await auth.authenticate(key)).ok).toBe(false);
  });

  it('revocation takes effect on the next request', async () => {
    const { secret, replica, auth } = setup();
    const { key, record } = issueKey(secret, { tenant_id: 'acme' });
    replica.load([record]);
    expect((await auth.authenticate(key)).ok).toBe(true);
    replica.apply({ change: 'revoked', key: { ...record, status: 'revoked', version: 2 } });
    expect(await auth.authenticate(key)).toMatchObject({
      ok: false,
      status: 403,
      type: 'inactive_key',
      key_id: record.id,
      tenant_id: 'acme',
    });
  });

  it('a rotation without grace ends the old secret on the next request', async () => {
    const { secret, replica, auth } = setup();
    const { key: oldKey, record } = issueKey(secret);
    replica.load([record]);
    expect((await auth.authenticate(oldKey)).ok).toBe(true);
    const newKey = generateKey(record.id).key;
    replica.apply({
      change: 'rotated',
      key: { ...record, version: 2, secret_hash: hashKeyHex(secret, newKey) },
    });
    expect(await auth.authenticate(oldKey)).toMatchObject({ ok: false, type: 'invalid_key' });
    expect((await auth.authenticate(newKey)).ok).toBe(true);
  });

  it('an old secret remembered during the grace stops working the moment the grace ends', async () => {
    const { secret, replica, auth, advance, at } = setup();
    const { key: oldKey, record } = issueKey(secret);
    replica.load([record]);
    const newKey = generateKey(record.id).key;
    replica.apply({
      change: 'rotated',
      key: {
        ...record,
        version: 2,
        secret_hash: hashKeyHex(secret, newKey),
        previous_secret_hash: record.secret_hash,
        previous_valid_until: new Date(at() + 60_000).toISOString(),
      },
    });
    expect((await auth.authenticate(oldKey)).ok).toBe(true); // remembered as "via the previous secret"
    expect((await auth.authenticate(newKey)).ok).toBe(true);
    advance(59_999);
    expect((await auth.authenticate(oldKey)).ok).toBe(true);
    advance(1);
    expect(await auth.authenticate(oldKey)).toMatchObject({ ok: false, type: 'invalid_key' });
    expect((await auth.authenticate(newKey)).ok).toBe(true);
  });

  it('a failure is not remembered: a key that arrives in the replica works on its next request', async () => {
    const { secret, replica, auth } = setup();
    const { key, record } = issueKey(secret);
    expect((await auth.authenticate(key)).ok).toBe(false);
    replica.load([record]);
    expect((await auth.authenticate(key)).ok).toBe(true);
  });

  it('a reactivated key (newer version) is served from the new record', async () => {
    const { secret, replica, auth } = setup();
    const { key, record } = issueKey(secret, { status: 'revoked' });
    replica.load([record]);
    expect((await auth.authenticate(key)).ok).toBe(false);
    const active = { ...record, status: 'active' as const, version: 2 };
    replica.apply({ change: 'activated', key: active });
    expect(await auth.authenticate(key)).toEqual({ ok: true, key: active });
  });
});

describe('compiled-policy cache', () => {
  it('a policy change takes effect on the next request', async () => {
    const { secret, replica, auth } = setup();
    const { key, record } = issueKey(secret);
    replica.load([record]);
    const first = await auth.authenticate(key);
    if (!first.ok) throw new Error('expected ok');
    expect(auth.authorize(first.key, input)).toMatchObject({ ok: true, model: 'gpt-4.1-mini' });

    const restricted: KeyRecord = {
      ...record,
      version: 2,
      policy: withDefaults({ models: ['openai:gpt-4o*'], dims_required: true }),
    };
    replica.apply({ change: 'policy_updated', key: restricted });
    const second = await auth.authenticate(key);
    if (!second.ok) throw new Error('expected ok');
    expect(second.key).toBe(restricted);
    expect(auth.authorize(second.key, input)).toMatchObject({ ok: false, type: 'dimension_validation' });
    expect(auth.authorize(second.key, { ...input, dims_header: 'team=a' })).toMatchObject({
      ok: false,
      type: 'model_blocked',
    });
    expect(
      auth.authorize(second.key, {
        ...input,
        dims_header: 'team=a',
        body: Buffer.from('{"model":"GPT-4o-mini"}'),
      }),
    ).toMatchObject({ ok: true, model: 'GPT-4o-mini', dims: { team: 'a' } });
  });

  it('each policy object is evaluated by its own rules (no cross-talk between keys)', () => {
    const req = {
      provider: 'google-ai-studio',
      path: '/v1/chat/completions',
      dialect: 'openai-compatible' as const,
      contentType: 'application/json',
      body: Buffer.from('{"model":" Gemini-2.5-Flash "}'),
      dims: ['env=prod'],
    };
    const policies: Array<[Partial<KeyPolicy>, boolean]> = [
      [{}, true],
      [{ providers: ['Google'] }, true],
      [{ providers: ['openai'] }, false],
      [{ models: ['google:gemini-2.5-flash'] }, true],
      [{ models: ['GOOGLE-AI-STUDIO:gemini-2.5*'] }, true],
      [{ models: ['google:gemini-2.5'] }, false],
      [{ models: ['openai:*'] }, false],
      [{ models: ['google:*'] }, true],
      [{ models: ['*'] }, true],
      [{ dims_allowed: ['team'] }, false],
      [{ dims_pinned: { env: 'prod' } }, true],
      [{ dims_pinned: { env: 'dev' } }, false],
    ];
    // Twice over: the second pass runs from the compiled cache and must agree with the first.
    for (let pass = 0; pass < 2; pass++) {
      for (const [p, allowed] of policies) {
        const policy = withDefaults(p);
        expect([p, !evaluate(policy, req).denial]).toEqual([p, allowed]);
        expect([p, !evaluate(policy, req).denial]).toEqual([p, allowed]);
      }
    }
  });

  it('merges defaults, request and pinned dims in that order of precedence', () => {
    const policy = withDefaults({
      dims_allowed: ['*'],
      dims_default: { team: 'platform', 'cost-center': 'cc-1' },
      dims_pinned: { env: 'prod' },
    });
    const req = { provider: 'openai', path: '/v1/models', dims: ['team=search,env=prod,app=x'] };
    const dims = evaluate(policy, req).dims;
    expect(dims).toEqual({ team: 'search', 'cost-center': 'cc-1', env: 'prod', app: 'x' });
    expect(Object.getPrototypeOf(dims)).toBe(Object.prototype);
  });
});

describe('compiled allow-lists agree with the plain ones', () => {
  it('over every combination of sample patterns, providers and models', () => {
    const pats = [
      '*',
      'openai:*',
      'openai:gpt-4.1*',
      'OpenAI:GPT-4o-mini',
      'google-ai-studio:gemini*',
      'x',
      'groq:',
      ':*',
    ];
    const provs = ['openai', 'google', 'google-ai-studio', 'groq', 'anthropic', ''];
    const models = ['gpt-4.1', ' GPT-4.1-mini ', 'gpt-4o-mini', 'gpt-4o', 'gemini-2.5-pro', '', '*'];
    const lists: string[][] = [[]];
    for (const p of pats) for (const l of [...lists]) if (l.length < 3) lists.push([...l, p]);
    let checked = 0;
    for (const list of lists) {
      const c = compilePolicy(withDefaults({ models: list, providers: list }));
      for (const prov of provs) {
        const canon = canonicalProvider(prov);
        expect([list, prov, compiledModelsRestricted(c.models, canon)]).toEqual([
          list,
          prov,
          modelsRestricted(list, prov),
        ]);
        expect([list, prov, compiledProviderAllowed(c, canon)]).toEqual([
          list,
          prov,
          providerAllowed(list, prov),
        ]);
        for (const m of models) {
          expect([list, prov, m, compiledMatchModel(c.models, canon, m)]).toEqual([
            list,
            prov,
            m,
            matchModel(list, prov, m),
          ]);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(1000);
  });
});
