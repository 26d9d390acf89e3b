// The proxy's key module over a real in-process bus: snapshot at start, broadcast changes, resolve on a miss.
import { Global, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  Commands,
  type KeyChangedV1,
  type KeyRecord,
  type KeysResolveRequest,
  REQUEST_AUTHORIZER,
  type RequestAuthorizer,
  Topics,
} from '@spendops/contracts';
import { InProcessBus, MESSAGE_BUS } from '@spendops/messaging';
import { ProxyKeysModule, ProxyKeysSync } from './proxy-keys.module';
import { issueKey } from './testing/key-records';

const secretHex = '11'.repeat(32);
const secret = Buffer.from(secretHex, 'hex');

async function startProxyKeys(bus: InProcessBus) {
  @Global()
  @Module({ providers: [{ provide: MESSAGE_BUS, useValue: bus }], exports: [MESSAGE_BUS] })
  class BusModule {}
  const moduleRef = await Test.createTestingModule({
    imports: [BusModule, ProxyKeysModule.forRoot({ serverSecret: secretHex, snapshotRetryMs: 20 })],
  }).compile();
  await moduleRef.init();
  return moduleRef;
}

describe('ProxyKeysModule', () => {
  let bus: InProcessBus;
  beforeEach(() => {
    bus = new InProcessBus();
  });
  afterEach(async () => {
    await bus.close();
  });

  it('loads the snapshot, follows changes, resolves a miss', async () => {
    const a = issueKey(secret);
    const b = issueKey(secret);
    const resolved: string[] = [];
    await bus.handle(Commands.keysSnapshot, async () => ({ keys: [a.record] }));
    await bus.handle<KeysResolveRequest, { key: KeyRecord | null }>(Commands.keysResolve, async ({ id }) => {
      resolved.push(id);
      return { key: id === b.record.id ? b.record : null };
    });
    const moduleRef = await startProxyKeys(bus);
    const auth = moduleRef.get<RequestAuthorizer>(REQUEST_AUTHORIZER);
    expect(moduleRef.get(ProxyKeysSync).ready).toBe(true);

    expect((await auth.authenticate(a.key)).ok).toBe(true);
    expect(resolved).toEqual([]);
    expect((await auth.authenticate(b.key)).ok).toBe(true); // not in the snapshot: resolved once
    expect(resolved).toEqual([b.record.id]);

    const revoked: KeyChangedV1 = { change: 'revoked', key: { ...a.record, status: 'revoked', version: 2 } };
    await bus.publish(Topics.keyChanged, revoked);
    await waitFor(async () => (await auth.authenticate(a.key)).ok === false);
    expect(await auth.authenticate(a.key)).toMatchObject({ type: 'inactive_key' });
    await moduleRef.close();
  });

  it('starts before the auth service and loads the snapshot once it answers', async () => {
    const a = issueKey(secret);
    const moduleRef = await startProxyKeys(bus);
    const sync = moduleRef.get(ProxyKeysSync);
    expect(sync.ready).toBe(false);
    await bus.handle(Commands.keysSnapshot, async () => ({ keys: [a.record] }));
    await waitFor(async () => sync.ready);
    expect((await moduleRef.get<RequestAuthorizer>(REQUEST_AUTHORIZER).authenticate(a.key)).ok).toBe(true);
    await moduleRef.close();
  });
});

async function waitFor(cond: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
