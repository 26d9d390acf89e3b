// How an Envelope travels over AMQP: the body is the JSON payload; the envelope's other fields are message
// properties (message_id, type = topic) and headers (published_at, attempt), so other AMQP tools can read them.
import type { ConsumeMessage, GetMessage, Options } from 'amqplib';
import { Envelope, PoisonMessageError } from '../bus';
import { DeadLetter } from '../dead-letter';

export const CONTENT_TYPE = 'application/json';
export const HEADER_PUBLISHED_AT = 'published_at';
export const HEADER_ATTEMPT = 'attempt';
export const HEADER_DEAD_LETTER_REASON = 'dead_letter_reason';
export const HEADER_DEAD_LETTERED_AT = 'dead_lettered_at';
export const HEADER_DEAD_LETTER_QUEUE = 'dead_letter_queue';

export function encodeBody(payload: unknown): Buffer {
  return Buffer.from(JSON.stringify(payload ?? null));
}

export function publishProperties(envelope: Omit<Envelope, 'payload'>): Options.Publish {
  return {
    persistent: true,
    messageId: envelope.id,
    type: envelope.topic,
    contentType: CONTENT_TYPE,
    headers: { [HEADER_PUBLISHED_AT]: envelope.published_at, [HEADER_ATTEMPT]: envelope.attempt },
  };
}

/** The envelope of a delivery; a message we cannot read is poison (it will never succeed). */
export function decodeEnvelope(msg: ConsumeMessage | GetMessage): Envelope {
  const headers = msg.properties.headers ?? {};
  const id = msg.properties.messageId as string | undefined;
  if (!id) throw new PoisonMessageError('message without message_id');
  let payload: unknown;
  try {
    payload = JSON.parse(msg.content.toString('utf8'));
  } catch {
    throw new PoisonMessageError('body is not JSON');
  }
  const attempt = Number(headers[HEADER_ATTEMPT] ?? 1);
  return {
    id,
    topic: (msg.properties.type as string | undefined) ?? msg.fields.routingKey,
    payload,
    published_at: String(headers[HEADER_PUBLISHED_AT] ?? ''),
    attempt: Number.isInteger(attempt) && attempt > 0 ? attempt : 1,
  };
}

/** A dead-letter queue message read back; its body may be unreadable, which is why it is there. */
export function decodeDeadLetter(queue: string, msg: GetMessage): DeadLetter {
  const headers = msg.properties.headers ?? {};
  let payload: unknown;
  try {
    payload = JSON.parse(msg.content.toString('utf8'));
  } catch {
    payload = msg.content.toString('base64');
  }
  return {
    queue,
    envelope: {
      id: String(msg.properties.messageId ?? ''),
      topic: String(msg.properties.type ?? ''),
      payload,
      published_at: String(headers[HEADER_PUBLISHED_AT] ?? ''),
      attempt: Number(headers[HEADER_ATTEMPT] ?? 1),
    },
    reason: String(headers[HEADER_DEAD_LETTER_REASON] ?? brokerDeathReason(headers) ?? ''),
    deadLetteredAt: String(headers[HEADER_DEAD_LETTERED_AT] ?? ''),
  };
}

/** Dead-lettered by the broker itself (x-death), e.g. `delivery_limit` after repeated consumer deaths. */
function brokerDeathReason(headers: Record<string, unknown>): string | undefined {
  const deaths = headers['x-death'];
  if (!Array.isArray(deaths) || deaths.length === 0) return undefined;
  const first = deaths[0] as { reason?: unknown; queue?: unknown };
  return `broker: ${String(first.reason)} (queue ${String(first.queue)})`;
}
