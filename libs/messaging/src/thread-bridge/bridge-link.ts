// One end of the channel between the main thread and the pipeline worker: frames batched per microtask into one
// postMessage (the outbound queue publishes hundreds of messages in one tick), calls with replies, and a
// closed state that fails every call still waiting (the peer died).
import { BusUnavailableError } from '../errors';

/** A frame on the wire: its kind, an optional call id, the rest is kind-specific. */
export interface Frame {
  k: string;
  r?: number;
  [field: string]: unknown;
}

/** What the link needs of a MessagePort / Worker / parentPort. */
export interface FramePort {
  postMessage(frames: Frame[]): void;
  on(event: 'message', listener: (frames: Frame[]) => void): unknown;
  off(event: 'message', listener: (frames: Frame[]) => void): unknown;
}

/** An error as it travels: enough to rebuild the caller-side error class. */
export interface WireError {
  name: string;
  message: string;
  remoteName?: string;
}

export class RemoteFailure extends Error {
  constructor(readonly wire: WireError) {
    super(wire.message);
    this.name = wire.name;
  }
}

interface PendingCall {
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
  /** Runs inside the frame loop, before any later frame is handled (a promise continuation would run after). */
  onReply?: (value: unknown) => void;
}

export type CallHandler = (frame: Frame) => Promise<unknown> | unknown;
export type FrameHandler = (frame: Frame) => void;

export class BridgeLink {
  private outgoing: Frame[] = [];
  private flushScheduled = false;
  private nextCall = 1;
  private readonly pending = new Map<number, PendingCall>();
  private readonly callHandlers = new Map<string, CallHandler>();
  private readonly frameHandlers = new Map<string, FrameHandler>();
  private closedReason: string | null = null;
  private readonly listener = (frames: Frame[]): void => this.receive(frames);

  constructor(private readonly port: FramePort) {
    port.on('message', this.listener);
  }

  get open(): boolean {
    return this.closedReason === null;
  }

  /** A call the peer answers with a reply frame. */
  onCall(kind: string, handler: CallHandler): void {
    this.callHandlers.set(kind, handler);
  }

  /** A one-way frame. */
  onFrame(kind: string, handler: FrameHandler): void {
    this.frameHandlers.set(kind, handler);
  }

  send(frame: Frame): void {
    if (this.closedReason !== null) return;
    this.outgoing.push(frame);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(() => this.flush());
    }
  }

  /** Sends a call; `r` is its id (returned through `sent`, e.g. to retain a publish until settled). */
  call<T>(frame: Frame, onReply?: (value: unknown) => void, sent?: (r: number) => void): Promise<T> {
    if (this.closedReason !== null) return Promise.reject(new BusUnavailableError(this.closedReason));
    const r = this.nextCall++;
    sent?.(r);
    return new Promise<T>((resolve, reject) => {
      this.pending.set(r, { resolve: resolve as (v: unknown) => void, reject, onReply });
      // Callers hand in a frame of their own (an object literal): it takes its id in place, without a copy.
      frame.r = r;
      this.send(frame);
    });
  }

  /** The peer is gone: every waiting call fails; nothing more is sent. */
  close(reason: string): void {
    if (this.closedReason !== null) return;
    this.closedReason = reason;
    this.port.off('message', this.listener);
    this.outgoing = [];
    const waiting = [...this.pending.values()];
    this.pending.clear();
    for (const call of waiting) call.reject(new BusUnavailableError(reason));
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.outgoing.length === 0 || this.closedReason !== null) return;
    const frames = this.outgoing;
    this.outgoing = [];
    this.port.postMessage(frames);
  }

  private receive(frames: Frame[]): void {
    for (const frame of frames) {
      if (this.closedReason !== null) return;
      if (frame.k === 'reply') this.settleCall(frame);
      else if (frame.r !== undefined && this.callHandlers.has(frame.k)) this.answer(frame);
      else if (this.frameHandlers.has(frame.k)) this.frameHandlers.get(frame.k)!(frame);
      else if (frame.r !== undefined) {
        // A call this side cannot answer (yet: a worker still starting has no handlers): the caller hears so
        // at once instead of waiting out its own timeout.
        this.send({ k: 'reply', r: frame.r, error: { name: 'Error', message: `no handler for ${frame.k}` } });
      }
    }
  }

  private settleCall(frame: Frame): void {
    const call = this.pending.get(frame.r!);
    if (!call) return;
    this.pending.delete(frame.r!);
    if (frame.error) {
      call.reject(new RemoteFailure(frame.error as WireError));
      return;
    }
    try {
      call.onReply?.(frame.v);
    } catch (err) {
      call.reject(err as Error);
      return;
    }
    call.resolve(frame.v);
  }

  private answer(frame: Frame): void {
    const r = frame.r!;
    let result: unknown;
    try {
      result = this.callHandlers.get(frame.k)!(frame);
    } catch (err) {
      this.send({ k: 'reply', r, error: toWire(err) });
      return;
    }
    if (result instanceof Promise) {
      result.then(
        (v: unknown) => this.send({ k: 'reply', r, v }),
        (err: unknown) => this.send({ k: 'reply', r, error: toWire(err) }),
      );
    } else {
      this.send({ k: 'reply', r, v: result });
    }
  }
}

export function toWire(err: unknown): WireError {
  if (err instanceof Error) {
    const remoteName = (err as { remoteName?: unknown }).remoteName;
    return {
      name: err.name,
      message: err.message,
      ...(typeof remoteName === 'string' ? { remoteName } : {}),
    };
  }
  return { name: 'Error', message: String(err) };
}
