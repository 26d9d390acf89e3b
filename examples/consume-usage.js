#!/usr/bin/env node
// A SpendOps integration in plain Node.js: receive every usage event the ledger stores (`usage.recorded.v1`).
//
//   npm install amqplib
//   SPENDOPS_AMQP_URL=amqp://guest:guest@localhost:5672 node examples/consume-usage.js
//
// What makes it safe (docs/integrations.md):
// - its own durable queue, bound once: while this process is down the broker keeps every message for it;
// - ack only after the message was processed: a crash mid-way redelivers it;
// - delivery is at least once, so it skips message ids it has already processed.
'use strict';

const amqp = require('amqplib');

const url = process.env.SPENDOPS_AMQP_URL || 'amqp://guest:guest@localhost:5672';
const exchange = process.env.SPENDOPS_AMQP_EXCHANGE || 'spendops.events';
const queue = process.env.QUEUE || 'example.usage-recorded';

// Processed message ids. In production use a unique column written in the same transaction as your effect;
// here a bounded in-memory set (the newest 100,000 ids) stands in for it.
const seen = new Set();
const SEEN_MAX = 100_000;
// Ids being processed now: with prefetch, a redelivery can arrive while the first copy is still in handleUsage
// (amqplib hands over every message of one socket read before any await resumes), so `seen` alone lets both in.
const processing = new Set();
function remember(id) {
  seen.add(id);
  if (seen.size > SEEN_MAX) seen.delete(seen.values().next().value);
}

/** Your effect. A re-pricing arrives as another message for the same request_id with the new costs. */
async function handleUsage(event) {
  // Costs are exact decimal strings (null = unknown, not $0): keep them as strings or use a decimal library.
  const cost = event.total_cost_usd === null ? 'unpriced' : `$${event.total_cost_usd}`;
  process.stdout.write(
    `${event.request_id} ${event.provider}/${event.model} tokens=${event.total_tokens} cost=${cost}\n`,
  );
}

async function main() {
  const connection = await amqp.connect(url);
  // Stop cleanly: a message being processed and not yet acked is redelivered to the next run.
  const stop = async () => {
    await connection.close().catch(() => undefined);
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const channel = await connection.createChannel();
  // Same arguments as SpendOps declares (a mismatch would be refused by the broker).
  await channel.assertExchange(exchange, 'topic', { durable: true });
  await channel.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
  await channel.bindQueue(queue, exchange, 'usage.recorded.v1');
  await channel.prefetch(20);

  await channel.consume(queue, async (msg) => {
    if (msg === null) return; // the queue was deleted
    const id = msg.properties.messageId;
    let mine = false;
    try {
      if (id && (seen.has(id) || processing.has(id))) {
        // Done already, or being done: if that first copy fails it is not acked and comes back, so this one can go.
        channel.ack(msg);
        return;
      }
      if (id) {
        processing.add(id);
        mine = true;
      }
      const event = JSON.parse(msg.content.toString('utf8'));
      await handleUsage(event);
      if (id) remember(id);
      channel.ack(msg);
    } catch (err) {
      // Not acked: back to the queue for another try (a body that can never be read would loop; log it).
      process.stderr.write(`failed to process ${id}: ${err && err.message}\n`);
      setTimeout(() => channel.nack(msg, false, true), 1000);
    } finally {
      if (mine) processing.delete(id);
    }
  });
  process.stderr.write(`consuming usage.recorded.v1 from ${exchange} through queue ${queue}\n`);
}

main().catch((err) => {
  process.stderr.write(`consume-usage: ${err && err.message}\n`);
  process.exit(1);
});
