import type { Readable } from 'node:stream';

/** The part of Fastify's reply a route that streams uses (the app runs on the Fastify adapter). */
export interface StreamReply {
  status(code: number): StreamReply;
  header(name: string, value: string): StreamReply;
  send(body: Readable | string): StreamReply;
}
