import type { KeyRecord } from '@spendops/contracts';
import { hashKeyHex, generateKey } from './key-format';
import { KeyReplica } from './key-replica';
import { MSG_INACTIVE_KEY, MSG_INVALID_KEY, MSG_MISSING_KEY, PolicyAuthorizer } from './policy-authorizer';
import { issueKey } from './testing/key-records';

const secret = Buffer.alloc(32, 7);

function setup(
  resolve?: (id: string) => Promise<KeyRecord | null>,
  opts: { missGapMs?: number; max?: number } = {},
) {
  let now = Date.parse('2026-01-01T00:00:00Z');
  const clock = () => now;
  const replica = new KeyReplica({
    resolve,
    now: clock,
    missGapMs: opts.missGapMs,
    maxResolvesPerSecond: opts.max,
  });
  const auth = new PolicyAuthorizer(replica, secret, clock);
  return { replica, auth, advance: (ms: number) => (now += ms), at: () => now };
}

describe('PolicyAuthorizer.authenticate', () => {
  it('401 when the header is missing or empty', async () => {
    const { auth } = setup();
    for (const h of [undefined, '']) {
      expect(await auth.authenticate(h)).toEqual({
        ok: false,
        status: 401,
        type: 'missing_key',
        message: MSG_MISSING_KEY,
      });
    }
  });

  it('403 for a malformed key, a repeated header (joined by Node), an unknown id and a wrong secret', async () => {
    const { replica, auth } = setup();
    const { key, record } = issueKey(secret);
    replica.load([record]);
    const wrongSecret = generateKey(record.id).key;
    for (const h of ['Bearer sk-x', `${key}, ${key}`, generateKey().key, wrongSecret]) {
      expect(await auth.authenticate(h)).toEqual({
        ok: false,
        status: 403,
        type: 'invalid_key',
        message: MSG_INVALID_KEY,
      });
    }
    expect(await auth.authenticate(key)).toEqual({ ok: true, key: record });
  });

  it('403 inactive for a revoked key with the right secret, naming key and tenant', async () => {
    const { replica, auth } = setup();
    const { key, record } = issueKey(secret, { status: 'revoked', tenant_id: 'acme' });
    replica.load([record]);
    expect(await auth.authenticate(key)).toEqual({
      ok: false,
      status: 403,
      type: 'inactive_key',
      message: MSG_INACTIVE_KEY,
      key_id: record.id,
      tenant_id: 'acme',
    });
    // A wrong secret for a revoked key is just invalid: nothing is revealed about the key.
    expect((await auth.authenticate(generateKey(record.id).key)).ok).toBe(false);
    expect(await auth.authenticate(generateKey(record.id).key)).toMatchObject({ type: 'invalid_key' });
  });

  it('rotation: the previous secret verifies until previous_valid_until, then only the new one', async () => {
    const { replica, auth, advance, at } = setup();
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
        previous_valid_until: new Date(at() + 3600_000).toISOString(),
      },
    });
    expect((await auth.authenticate(oldKey)).ok).toBe(true);
    expect((await auth.authenticate(newKey)).ok).toBe(true);
    advance(3600_000);
    expect(await auth.authenticate(oldKey)).toMatchObject({ ok: false, type: 'invalid_key' });
    expect((await auth.authenticate(newKey)).ok).toBe(true);
  });
});

describe('KeyReplica', () => {
  it('ignores older versions, from events and from a late snapshot', () => {
    const { replica } = setup();
    const { record } = issueKey(secret);
    expect(replica.apply({ change: 'created', key: record })).toBe(true);
    const revoked: KeyRecord = { ...record, status: 'revoked', version: 2 };
    expect(replica.apply({ change: 'revoked', key: revoked })).toBe(true);
    expect(replica.apply({ change: 'created', key: record })).toBe(false);
    replica.load([record]);
    expect(replica.get(record.id)?.record.status).toBe('revoked');
    expect(replica.apply({ change: 'revoked', key: revoked })).toBe(false); // redelivery
    expect(replica.size).toBe(1);
  });

  it('a miss asks the owner once, and concurrent first requests share that one call', async () => {
    const { key, record } = issueKey(secret);
    let calls = 0;
    const { auth } = setup(async (id) => {
      calls++;
      await new Promise((r) => setTimeout(r, 20));
      return id === record.id ? record : null;
    });
    const results = await Promise.all(Array.from({ length: 100 }, () => auth.authenticate(key)));
    expect(results.every((r) => r.ok)).toBe(true);
    expect(calls).toBe(1);
    expect((await auth.authenticate(key)).ok).toBe(true);
    expect(calls).toBe(1);
  });

  it('a rotated key whose event has not arrived yet is resolved on its first request', async () => {
    const { key: oldKey, record } = issueKey(secret);
    const newKey = generateKey(record.id).key;
    const rotated = { ...record, version: 2, secret_hash: hashKeyHex(secret, newKey) };
    const { replica, auth } = setup(async () => rotated);
    replica.load([record]);
    expect((await auth.authenticate(newKey)).ok).toBe(true);
    expect((await auth.authenticate(oldKey)).ok).toBe(false);
  });

  it('rate-limits: one call per id per gap, and a cap per second across ids', async () => {
    let calls = 0;
    const { auth, advance } = setup(
      async () => {
        calls++;
        return null;
      },
      { missGapMs: 1000, max: 5 },
    );
    const unknown = generateKey().key;
    for (let i = 0; i < 10; i++) expect((await auth.authenticate(unknown)).ok).toBe(false);
    expect(calls).toBe(1);
    advance(1000);
    await auth.authenticate(unknown);
    expect(calls).toBe(2);
    for (let i = 0; i < 50; i++) await auth.authenticate(generateKey().key);
    expect(calls).toBe(6); // call 2 opened a new window: 4 more fit, then it is spent
    advance(1000);
    await auth.authenticate(generateKey().key);
    expect(calls).toBe(7);
  });

  it('an owner that fails is a miss, not an error', async () => {
    const { auth } = setup(() => Promise.reject(new Error('bus down')));
    expect(await auth.authenticate(generateKey().key)).toMatchObject({
      ok: false,
      status: 403,
      type: 'invalid_key',
    });
  });
});

describe('PolicyAuthorizer.authorize and needsBody', () => {
  const { auth } = setup();
  const { record } = issueKey(secret, {
    policy: { providers: ['openai'], models: ['openai:gpt-4.1*'], dims_default: { env: 'prod' } },
  });
  const input = {
    provider: 'openai',
    dialect: 'openai-compatible' as const,
    endpoint: '/v1/chat/completions',
    content_type: 'application/json',
    body: Buffer.from('{"model":"gpt-4.1-mini"}'),
    dims_header: 'team=search',
  };

  it('allows with merged dims and the model', () => {
    expect(auth.authorize(record, input)).toEqual({
      ok: true,
      dims: { env: 'prod', team: 'search' },
      model: 'gpt-4.1-mini',
    });
  });
  it('refuses in order: provider, dims, model, with the exact texts', () => {
    expect(auth.authorize(record, { ...input, provider: 'anthropic' })).toEqual({
      ok: false,
      status: 403,
      type: 'provider_blocked',
      message: 'Provider not allowed by API key policy',
      dims: { env: 'prod', team: 'search' },
    });
    expect(
      auth.authorize(record, { ...input, dims_header: 'team=a', dims_header_repeated: true }),
    ).toMatchObject({
      ok: false,
      status: 400,
      message: 'Invalid X-ASO-Dims: header sent more than once',
    });
    expect(auth.authorize(record, { ...input, body: Buffer.from('{"model":"gpt-5"}') })).toMatchObject({
      ok: false,
      status: 403,
      type: 'model_blocked',
      message: 'Model not allowed by API key policy',
    });
  });
  it('reads the raw header bytes as UTF-8', () => {
    const raw = Buffer.from('team=équipe', 'utf8').toString('latin1');
    expect(auth.authorize(record, { ...input, dims_header: raw })).toMatchObject({
      ok: true,
      dims: { team: 'équipe' },
    });
  });
  it('needs the body only for a restrictive model list', () => {
    expect(auth.needsBody(record, 'openai')).toBe(true);
    expect(auth.needsBody(issueKey(secret).record, 'openai')).toBe(false);
    expect(auth.needsBody(issueKey(secret, { policy: { models: ['openai:*'] } }).record, 'openai')).toBe(
      false,
    );
    expect(auth.needsBody(issueKey(secret, { policy: { models: ['openai:*'] } }).record, 'groq')).toBe(true);
  });
});
