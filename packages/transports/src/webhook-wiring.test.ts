// The receiver wiring exactly as docs/transports.md and the TSDoc of createWebhookReceiver write it.
// `tsc -p packages/transports` checks this file (the package's typecheck), so a change that makes
// the documented wiring stop type-checking fails there; vitest runs it.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { CanonicalEvent } from "@millwright/events";
import { createInbox, createMemoryStore, type MemoryTransaction } from "@millwright/idempotency";
import { afterEach, expect, expectTypeOf, it } from "vitest";
import { workOrderEvents } from "../test/fixtures.js";
import type { SubscribeOptions } from "./core.js";
import { createWebhookReceiver, createWebhookSecret, createWebhookSender } from "./http.js";

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

it("createWebhookReceiver({ secrets, inbox: createInbox(createMemoryStore()) }, handler) type-checks as written and delivers", async () => {
  const secret = createWebhookSecret();
  const applied: string[] = [];
  const receiver = createWebhookReceiver({ secrets: [secret], inbox: createInbox(createMemoryStore()) }, (event, { tx }) => {
    expectTypeOf(event).toEqualTypeOf<CanonicalEvent>();
    expectTypeOf(tx).toEqualTypeOf<MemoryTransaction>();
    tx.defer(() => applied.push(event.id));
  });
  // A handler that expects another transaction than the store's is still refused.
  // @ts-expect-error -- the memory store's transaction is a MemoryTransaction, not a string
  createWebhookReceiver({ secrets: [secret], inbox: createInbox(createMemoryStore()) }, (_event: CanonicalEvent, context: { readonly tx: string }) => void context);

  const server = createServer(receiver.listener);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const sender = createWebhookSender({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/millwright`, secret });
  const events = workOrderEvents(2);
  expect((await sender.publish(events))._unsafeUnwrap().map((o) => o.outcome)).toEqual(["published", "published"]);
  expect(applied).toEqual(events.map((e) => e.id));
});

it("every subscriber takes createInbox(store) as is: SubscribeOptions accepts an inbox of any InboxEvent", () => {
  const options: SubscribeOptions<MemoryTransaction> = { inbox: createInbox(createMemoryStore()) };
  expectTypeOf(options.inbox).not.toBeAny();
  // @ts-expect-error -- an inbox over another store's transaction is still refused
  const wrong: SubscribeOptions<string> = { inbox: createInbox(createMemoryStore()) };
  expect(wrong).toBeDefined();
});
