// How the load generator reaches one target: base URL, chat completions path, headers; one keep-alive pool.
import { Agent, Dispatcher, request } from 'undici';

export interface Endpoint {
  base: string;
  path: string;
  headers: Record<string, string>;
}

export function newDispatcher(connections: number): Dispatcher {
  return new Agent({
    connections,
    pipelining: 1,
    keepAliveTimeout: 60_000,
    headersTimeout: 0,
    bodyTimeout: 0,
  });
}

export function chatBody(model: string, stream: boolean): string {
  return JSON.stringify({
    model,
    stream,
    ...(stream ? { stream_options: { include_usage: true } } : {}),
    messages: [{ role: 'user', content: 'Say hello in one short sentence.' }],
  });
}

export interface Sent {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One POST whose body is read to the end; non-200 rejects. */
export async function post(
  dispatcher: Dispatcher,
  ep: Endpoint,
  body: string,
  signal?: AbortSignal,
  keepBody = false,
): Promise<Sent> {
  const res = await request(ep.base + ep.path, {
    method: 'POST',
    headers: ep.headers,
    body,
    dispatcher,
    signal,
  });
  let text = '';
  if (keepBody) text = await res.body.text();
  else for await (const _ of res.body) void _;
  if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}`);
  return { status: res.statusCode, headers: res.headers, body: text };
}
