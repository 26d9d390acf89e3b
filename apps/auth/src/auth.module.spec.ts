// The auth service against a real PostgreSQL and the in-process bus: key lifecycle, audit log, command
// validation, and a proxy replica fed only by the published events.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Global, Module } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import {
  Commands,
  type KeyChangedV1,
  type KeyCreatedReply,
  type KeyRotatedReply,
  Topics,
} from '@spendops/contracts';
import { InProcessBus, MESSAGE_BUS, RemoteCommandError } from '@spendops/messaging';
import { PersistenceModule } from '@spendops/persistence';
import { KeyReplica, PolicyAuthorizer, serverSecretFromHex } from '@spendops/policy';
import { startPostgres, type TestPostgres } from '@spendops/testing';
import { DataSource } from 'typeorm';
import { AUTH_MIGRATIONS } from './auth.migration';
import { AuthModule } from './auth.module';
import { KeyService } from './key.service';

jest.setTimeout(60_000);

const secretHex = 'ab'.repeat(32);

describe('AuthModule (PostgreSQL)', () => {
  let pg: TestPostgres;
  let bus: InProcessBus;
  let app: TestingModule;
  let keys: KeyService;
  let events: KeyChangedV1[];
  let replica: KeyReplica;
  let authorizer: PolicyAuthorizer;

  beforeAll(async () => {
    pg = await startPostgres();
    bus = new InProcessBus();
    @Global()
    @Module({ providers: [{ provide: MESSAGE_BUS, useValue: bus }], exports: [MESSAGE_BUS] })
    class BusModule {}
    app = await Test.createTestingModule({
      imports: [
        BusModule,
        PersistenceModule.forRoot({
          databaseUrl: pg.url,
          dataDir: mkdtempSync(join(tmpdir(), 'auth-spec-')),
          migrations: AUTH_MIGRATIONS,
        }),
        AuthModule.forRoot({ serverSecret: secretHex }),
      ],
    }).compile();
    await app.init();
    keys = app.get(KeyService);
    // A proxy replica that only ever sees the events (no snapshot, no resolver).
    events = [];
    replica = new KeyReplica();
    authorizer = new PolicyAuthorizer(replica, serverSecretFromHex(secretHex));
    await bus.subscribe<KeyChangedV1>(
      'test.replica',
      [Topics.keyChanged],
      async (change) => {
        events.push(change);
        replica.apply(change);
      },
      { broadcast: true },
    );
  });

  afterAll(async () => {
    await app?.close();
    await bus?.close();
    await pg?.stop();
  });

  const settle = () => new Promise((r) => setTimeout(r, 50));

  it('a created key is accepted by a replica fed only by events; a revoked one is refused', async () => {
    const { key, view } = await keys.create({ name: 'search team', tenant: 'acme', actor: 'alice' });
    expect(key).toMatch(/^aso_k_[0-9A-Z]{16}\.[A-Za-z0-9_-]{43}$/);
    expect(view).toMatchObject({ name: 'search team', tenant: 'acme', status: 'active', last_used_at: null });
    expect(view.policy).toEqual({
      providers: ['*'],
      models: ['*'],
      dims_required: false,
      dims_allowed: ['team', 'env', 'app'],
      max_dims: 8,
      max_key_len: 32,
      max_value_len: 64,
      dims_pinned: {},
      dims_default: {},
    });
    await settle();
    expect(await authorizer.authenticate(key)).toMatchObject({
      ok: true,
      key: { id: view.id, tenant_id: 'acme' },
    });

    await keys.revoke(view.id, 'bob');
    await settle();
    expect(await authorizer.authenticate(key)).toMatchObject({
      ok: false,
      status: 403,
      type: 'inactive_key',
    });
    await keys.activate(view.id, 'bob');
    await settle();
    expect((await authorizer.authenticate(key)).ok).toBe(true);
    expect(events.filter((e) => e.key.id === view.id).map((e) => [e.change, e.key.version])).toEqual([
      ['created', 1],
      ['revoked', 2],
      ['activated', 3],
    ]);
  });

  it('never stores the key, only its HMAC', async () => {
    const { key, view } = await keys.create({ name: 'a' });
    const secret = key.slice(key.indexOf('.') + 1);
    const db = app.get(DataSource);
    const [{ n }] = await db.query(
      `SELECT count(*)::int AS n FROM api_keys WHERE secret_hash LIKE $1 OR policy::text LIKE $1 OR name LIKE $1`,
      [`%${secret}%`],
    );
    const [{ m }] = await db.query(
      `SELECT count(*)::int AS m FROM key_audit_log WHERE detail::text LIKE $1`,
      [`%${secret}%`],
    );
    expect([n, m]).toEqual([0, 0]);
    expect((await keys.resolve(view.id))?.secret_hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('rotation: both secrets work during the grace period; zero grace stops the old one at once; audit shows each step', async () => {
    const { key: oldKey, view } = await keys.create({ name: 'rot', actor: 't' });
    const rotated = await keys.rotate(view.id, 3600, 't');
    expect(rotated.key.startsWith(`aso_k_${view.id}.`)).toBe(true);
    expect(rotated.key).not.toBe(oldKey);
    expect(rotated.previous_valid_until).not.toBeNull();
    await settle();
    expect((await authorizer.authenticate(oldKey)).ok).toBe(true);
    expect((await authorizer.authenticate(rotated.key)).ok).toBe(true);

    const newer = await keys.rotate(view.id, 0, 't');
    await settle();
    expect((await authorizer.authenticate(newer.key)).ok).toBe(true);
    expect((await authorizer.authenticate(rotated.key)).ok).toBe(false);
    expect((await authorizer.authenticate(oldKey)).ok).toBe(false);

    await keys.revoke(view.id, 't');
    await keys.updatePolicy(view.id, { providers: ['openai'] }, 't');
    const log = await keys.auditLog(view.id);
    expect(log.map((e) => e.action).join(',')).toBe('create,rotate,rotate,revoke,policy_change');
    expect(log.every((e) => e.actor === 't')).toBe(true);
    expect(log[4].detail).toMatchObject({ old: { providers: ['*'] }, new: { providers: ['openai'] } });
    expect(JSON.stringify(log)).not.toContain(oldKey.slice(oldKey.indexOf('.') + 1));
  });

  it('the audit log is append-only', async () => {
    const db = app.get(DataSource);
    await expect(db.query(`UPDATE key_audit_log SET actor = 'mallory'`)).rejects.toThrow(/append-only/);
    await expect(db.query(`DELETE FROM key_audit_log`)).rejects.toThrow(/append-only/);
  });

  it('policy updates reach the replica and are enforced', async () => {
    const { key, view } = await keys.create({ name: 'pol', policy: { models: ['openai:gpt-4.1*'] } });
    await keys.updatePolicy(view.id, { dims_required: true });
    await settle();
    const auth = await authorizer.authenticate(key);
    if (!auth.ok) throw new Error('not authenticated');
    const input = {
      provider: 'openai',
      dialect: 'openai-compatible' as const,
      endpoint: '/v1/chat/completions',
      content_type: 'application/json',
      body: Buffer.from('{"model":"gpt-4.1"}'),
      dims_header: undefined,
    };
    expect(authorizer.authorize(auth.key, input)).toMatchObject({
      ok: false,
      status: 400,
      type: 'dimension_validation',
    });
    expect(authorizer.authorize(auth.key, { ...input, dims_header: 'team=a' })).toMatchObject({ ok: true });
  });

  describe('commands on the bus', () => {
    it('create, list, get, rotate, update-policy, snapshot and resolve', async () => {
      const created = await bus.request<object, KeyCreatedReply>(Commands.keysCreate, {
        name: 'cli key',
        tenant: 't-cmd',
        policy: { providers: ['openai'] },
        actor: 'cli',
      });
      expect(created.view.policy.providers).toEqual(['openai']);
      const listed = await bus.request<object, { keys: Array<{ id: string }> }>(Commands.keysList, {
        tenant: 't-cmd',
      });
      expect(listed.keys.map((k) => k.id)).toEqual([created.view.id]);
      expect(await bus.request(Commands.keysGet, { id: created.view.id })).toEqual({ key: created.view });
      const rotated = await bus.request<object, KeyRotatedReply>(Commands.keysRotate, {
        id: created.view.id,
        grace_seconds: 60,
      });
      expect(rotated.previous_valid_until).not.toBeNull();
      const updated = await bus.request<object, { key: { policy: { models: string[] } } }>(
        Commands.keysUpdatePolicy,
        {
          id: created.view.id,
          policy: { models: ['openai:gpt-4*'] },
        },
      );
      expect(updated.key.policy.models).toEqual(['openai:gpt-4*']);
      const snap = await bus.request<object, { keys: Array<{ id: string; version: number }> }>(
        Commands.keysSnapshot,
        {},
      );
      expect(snap.keys.find((k) => k.id === created.view.id)?.version).toBe(3);
      expect(await bus.request(Commands.keysResolve, { id: 'NOSUCHKEY' })).toEqual({ key: null });
      const audit = await bus.request<object, { audit: Array<{ key_id: string; action: string }> }>(
        Commands.keysAuditList,
        { key_id: created.view.id },
      );
      expect(audit.audit.map((a) => [a.key_id, a.action])).toEqual([
        [created.view.id, 'create'],
        [created.view.id, 'rotate'],
        [created.view.id, 'policy_change'],
      ]);
      const all = await bus.request<object, { audit: unknown[] }>(Commands.keysAuditList, {});
      expect(all.audit.length).toBeGreaterThan(3);
    });

    it.each([
      ['create without a name', Commands.keysCreate, {}, /name/],
      [
        'create with a bad policy field type',
        Commands.keysCreate,
        { name: 'x', policy: { max_dims: 'eight' } },
        /policy\.max_dims/,
      ],
      ['create with an unknown field', Commands.keysCreate, { name: 'x', colour: 'red' }, /colour/],
      [
        'create with an invalid pattern',
        Commands.keysCreate,
        { name: 'x', policy: { models: ['gpt-4'] } },
        /models\[0\]/,
      ],
      ['rotate with negative grace', Commands.keysRotate, { id: 'X', grace_seconds: -1 }, /grace_seconds/],
      ['revoke an unknown key', Commands.keysRevoke, { id: 'NOSUCHKEY' }, /key not found: NOSUCHKEY/],
    ])('%s is refused, naming the problem', async (_n, command, request, message) => {
      const err = await bus.request(command, request).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RemoteCommandError);
      expect((err as Error).message).toMatch(message);
    });
  });
});
