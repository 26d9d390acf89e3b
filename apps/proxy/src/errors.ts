import type { ServerResponse } from 'node:http';
import { ERROR_PREFIX } from '@spendops/contracts';

/** Messages of the hosted product's error table (decisions.md), verbatim. */
export const Messages = {
  missingKey: 'Missing X-ASO-API-Key',
  invalidKey: 'Invalid X-ASO-API-Key',
  inactiveKey: 'API key is inactive',
  unknownProvider: 'Unknown provider',
  upstreamFailed: 'Upstream fetch failed',
  invalidPath: 'Invalid path',
  notFound: 'Not found',
  badBody: 'Could not read request body',
  shuttingDown: 'Shutting down',
  bodyTooLarge: (max: number): string => `Request body too large (max ${max} bytes)`,
} as const;

/** Writes `{"error":"AISpendOps: <message>"}` (the request id header is already set). */
export function writeError(
  res: ServerResponse,
  status: number,
  message: string,
  closeConnection = false,
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = `${JSON.stringify({ error: ERROR_PREFIX + message })}\n`;
  res.setHeader('Content-Type', 'application/json');
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  if (closeConnection) res.setHeader('Connection', 'close');
  res.writeHead(status);
  res.end(body);
}
