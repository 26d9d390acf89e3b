import { EventEmitter } from 'node:events';
import { BridgeLink, Frame, FramePort, RemoteFailure } from './bridge-link';

/** Two ends of an in-memory channel, each delivering on a later tick like a MessagePort. */
function channel(): [FramePort, FramePort] {
  const a = new EventEmitter();
  const b = new EventEmitter();
  const end = (self: EventEmitter, peer: EventEmitter): FramePort => ({
    postMessage: (frames: Frame[]) => setImmediate(() => peer.emit('message', frames)),
    on: (event, listener) => self.on(event, listener),
    off: (event, listener) => self.off(event, listener),
  });
  return [end(a, b), end(b, a)];
}

describe('BridgeLink', () => {
  it('answers a call and relays one-way frames', async () => {
    const [left, right] = channel();
    const caller = new BridgeLink(left);
    const callee = new BridgeLink(right);
    const seen: unknown[] = [];
    callee.onCall('double', (f) => (f.n as number) * 2);
    callee.onFrame('note', (f) => seen.push(f.text));
    caller.send({ k: 'note', text: 'hi' });
    await expect(caller.call<number>({ k: 'double', n: 21 })).resolves.toBe(42);
    expect(seen).toEqual(['hi']);
  });

  it('fails a call the peer has no handler for at once, naming it (a peer still starting)', async () => {
    const [left, right] = channel();
    const caller = new BridgeLink(left);
    new BridgeLink(right); // no handlers registered yet
    const answer = caller.call({ k: 'shutdown' });
    await expect(answer).rejects.toBeInstanceOf(RemoteFailure);
    await expect(answer).rejects.toThrow('no handler for shutdown');
  });

  it('fails every waiting call when closed', async () => {
    const [left] = channel();
    const caller = new BridgeLink(left);
    const answer = caller.call({ k: 'anything' });
    caller.close('peer exited');
    await expect(answer).rejects.toThrow('peer exited');
  });
});
