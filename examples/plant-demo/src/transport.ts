/**
 * The demo's one transport option: besides delivering its events in-process to the MES, the demo
 * can publish them over a broker the plant already runs (MQTT, NATS JetStream, AMQP) or as signed
 * HTTP webhooks, with @millwright/transports. Brokers are found at the MILLWRIGHT_*_URL variables
 * or their local defaults.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { CanonicalEvent } from "@millwright/events";
import { createInbox, createMemoryStore } from "@millwright/idempotency";
import type { Publisher } from "@millwright/transports";
import { createAmqpPublisher } from "@millwright/transports/amqp";
import { createWebhookReceiver, createWebhookSender } from "@millwright/transports/http";
import { createMqttPublisher } from "@millwright/transports/mqtt";
import { createNatsPublisher, defaultNatsUrl, ensureNatsStream } from "@millwright/transports/nats";
import { connect } from "@nats-io/transport-node";

export const transportNames = ["in-process", "mqtt", "nats", "amqp", "http"] as const;
export type TransportName = (typeof transportNames)[number];

/** What one publish run did. */
export interface TransportReport {
  readonly transport: TransportName;
  readonly published: number;
  readonly failed: number;
  /** For HTTP: events the in-process webhook receiver applied through its inbox. */
  readonly received?: number;
}

async function publishWith(publisher: Publisher, events: readonly CanonicalEvent[]): Promise<{ published: number; failed: number }> {
  const outcomes = await publisher.publish(events);
  await publisher.close();
  if (outcomes.isErr()) throw new Error(`publish failed: ${outcomes.error.message}`);
  const published = outcomes.value.filter((o) => o.outcome === "published").length;
  return { published, failed: outcomes.value.length - published };
}

/**
 * Publishes the demo's events over the chosen transport.
 *
 * @param name - the transport; "in-process" publishes nothing beyond the MES delivery
 * @param events - the canonical events of the run
 * @returns how many were published, and failed
 */
export async function publishEvents(name: TransportName, events: readonly CanonicalEvent[]): Promise<TransportReport> {
  switch (name) {
    case "in-process":
      return { transport: name, published: 0, failed: 0 };
    case "mqtt": {
      // The default topic values: stock and hold facts take the site of the stock they are about.
      const publisher = await createMqttPublisher({ clientId: `millwright-demo-${process.pid}`, enterprise: "millwright" });
      if (publisher.isErr()) throw new Error(`MQTT: ${publisher.error.message}`);
      return { transport: name, ...(await publishWith(publisher.value, events)) };
    }
    case "nats": {
      const nc = await connect({ servers: defaultNatsUrl() });
      try {
        const stream = await ensureNatsStream(nc, { name: "MILLWRIGHT_DEMO", subjects: ["millwright.>"] });
        if (stream.isErr()) throw new Error(`NATS: ${stream.error.message}`);
        return { transport: name, ...(await publishWith(createNatsPublisher(nc), events)) };
      } finally {
        await nc.close();
      }
    }
    case "amqp": {
      const publisher = await createAmqpPublisher({ exchange: "millwright.demo" });
      if (publisher.isErr()) throw new Error(`AMQP: ${publisher.error.message}`);
      return { transport: name, ...(await publishWith(publisher.value, events)) };
    }
    case "http": {
      // A Standard Webhooks secret: whsec_ and the key in base64 (createWebhookSecret() makes a new one).
      const secret = "whsec_cGxhbnQtZGVtby13ZWJob29rLXNlY3JldA==";
      let received = 0;
      const receiver = createWebhookReceiver({ secrets: [secret], inbox: createInbox(createMemoryStore()) }, (_event, { tx }) => {
        tx.defer(() => {
          received++;
        });
      });
      const server = createServer(receiver.listener);
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      try {
        const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`;
        const result = await publishWith(createWebhookSender({ url, secret }), events);
        return { transport: name, ...result, received };
      } finally {
        await receiver.close();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    }
  }
}
