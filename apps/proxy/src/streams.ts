import type { IncomingMessage, ServerResponse } from 'node:http';

export type CappedRead = { kind: 'ok'; body: Buffer } | { kind: 'too_large' } | { kind: 'error' };

/**
 * Read a request body into memory, up to `max` bytes. Listeners instead of `for await`: leaving an async iterator
 * early destroys the socket, and an over-cap request must still get its 413.
 */
export function readBodyCapped(req: IncomingMessage, max: number): Promise<CappedRead> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    let size = 0;
    const done = (r: CappedRead): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('aborted', onError);
      resolve(r);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > max) {
        req.pause();
        done({ kind: 'too_large' });
        return;
      }
      parts.push(chunk);
    };
    const onEnd = (): void => done({ kind: 'ok', body: Buffer.concat(parts, size) });
    const onError = (): void => done({ kind: 'error' });
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('aborted', onError);
  });
}

/** Resolves on 'drain' or when the response closes (a gone client never drains). */
export function waitForDrain(res: ServerResponse): Promise<void> {
  if (res.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/** Resolves once the response was handed to the socket in full ('finish') or the connection closed. */
export function responseDone(res: ServerResponse): Promise<void> {
  if (res.writableFinished || res.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('finish', done);
      res.off('close', done);
      resolve();
    };
    res.on('finish', done);
    res.on('close', done);
  });
}
