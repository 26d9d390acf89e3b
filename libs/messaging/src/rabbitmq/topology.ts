// Names and declarations of the broker objects. Every process asserts the same arguments (a mismatch fails with
// 406 PRECONDITION_FAILED), so they are defined here only.
import type { Channel, Options } from 'amqplib';

export const DEFAULT_EXCHANGE = 'spendops.events';
/** Pseudo-queue for RabbitMQ's direct reply-to (no queue per requester). */
export const DIRECT_REPLY_TO = 'amq.rabbitmq.reply-to';

const QUORUM: Options.AssertQueue = { durable: true, arguments: { 'x-queue-type': 'quorum' } };

export const deadLetterQueueName = (queue: string): string => `${queue}.dlq`;
export const retryQueueName = (queue: string, delayMs: number): string => `${queue}.retry.${delayMs}ms`;
export const commandQueueName = (command: string): string => `spendops.cmd.${command}`;

export async function assertExchange(channel: Channel, exchange: string): Promise<void> {
  await channel.assertExchange(exchange, 'topic', { durable: true });
}

/** Redeliveries (a consumer died holding the message) before the broker dead-letters it: a crash loop breaker. */
export const DEFAULT_DELIVERY_LIMIT = 20;

/**
 * A subscription's work queue: quorum and durable, or (broadcast) exclusive to this connection. A message
 * redelivered more than `deliveryLimit` times (each time its consumer died without acking, e.g. a message that
 * crashes the process) goes to `<queue>.dlq` with x-death reason `delivery_limit`.
 */
export async function assertWorkQueue(
  channel: Channel,
  queue: string,
  exclusive: boolean,
  deadLetterTo: string,
  deliveryLimit = DEFAULT_DELIVERY_LIMIT,
): Promise<void> {
  if (exclusive) {
    await channel.assertQueue(queue, { durable: false, exclusive: true, autoDelete: true });
    return;
  }
  await channel.assertQueue(queue, {
    durable: true,
    arguments: {
      'x-queue-type': 'quorum',
      'x-delivery-limit': deliveryLimit,
      'x-dead-letter-exchange': '',
      'x-dead-letter-routing-key': deadLetterQueueName(deadLetterTo),
    },
  });
}

export async function assertDeadLetterQueue(channel: Channel, queue: string): Promise<void> {
  await channel.assertQueue(deadLetterQueueName(queue), QUORUM);
}

/**
 * A delay queue for one retry delay of one work queue: messages wait out the TTL, then the broker dead-letters
 * them through the default exchange straight back to the work queue (not to other queues bound to the topic).
 * Delays are per queue, so every message in it has the same TTL and none waits behind a longer one.
 */
export async function assertRetryQueue(
  channel: Channel,
  queue: string,
  delayMs: number,
  exclusive: boolean,
): Promise<string> {
  const name = retryQueueName(queue, delayMs);
  await channel.assertQueue(name, {
    durable: !exclusive,
    arguments: {
      'x-message-ttl': delayMs,
      'x-dead-letter-exchange': '',
      'x-dead-letter-routing-key': queue,
      // A broadcast queue dies with its process; its delay queues follow once idle.
      ...(exclusive ? { 'x-expires': delayMs + 60_000 } : {}),
    },
  });
  return name;
}

export async function assertCommandQueue(channel: Channel, command: string): Promise<string> {
  const name = commandQueueName(command);
  // Gone with its last server, so a request nobody serves is returned at once (mandatory) instead of timing out.
  await channel.assertQueue(name, { durable: false, autoDelete: true });
  return name;
}
