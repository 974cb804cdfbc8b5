import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Parser } from "@asyncapi/parser";
import { createEvent, type CanonicalEvent } from "@millwright/events";
import { eventTypes } from "@millwright/model";
import { createTopicTemplate, DEFAULT_TOPIC_TEMPLATE, topicValuesOf } from "@millwright/transports/mqtt";
import { natsSubjectOf } from "@millwright/transports/nats";
import { amqpRoutingKeyOf } from "@millwright/transports/amqp";
import { STANDARD_WEBHOOK_HEADERS } from "@millwright/transports/http";
import { describe, expect, test } from "vitest";
import { asyncapi, asyncApiTransports, createAsyncApiDocument, type AsyncApiTransport } from "./asyncapi.js";

const root = join(import.meta.dirname, "..", "..", "..");
const parser = new Parser();
// DiagnosticSeverity.Error in @stoplight/types, which the parser's diagnostics use.
const ERROR = 0;

type Doc = {
  channels: Record<string, { address: string | null; parameters?: Record<string, { location?: string }>; messages: Record<string, { $ref: string }> }>;
  operations: Record<string, { action: string; channel: { $ref: string }; "x-deprecated"?: unknown; bindings?: Record<string, unknown> }>;
  components: { messages: Record<string, { name: string; headers: { properties: Record<string, { const?: unknown }>; required: string[] }; payload: { $ref: string }; "x-deprecated"?: { replacedBy: string }; tags?: { name: string }[] }>; schemas: Record<string, Record<string, unknown>> };
};

async function parseErrors(doc: Doc): Promise<{ errors: string[] }> {
  const { diagnostics } = await parser.parse(JSON.stringify(doc));
  return { errors: diagnostics.filter((d) => d.severity === ERROR).map((d) => `${d.code} ${d.path.join("/")}: ${d.message}`) };
}

async function documentOf(transport: AsyncApiTransport): Promise<Doc> {
  return (await createAsyncApiDocument({ transport }))._unsafeUnwrap() as unknown as Doc;
}

/** A real event of a type, from a schema example of its entity. */
function exampleEvent(type: (typeof eventTypes)[number], file: string): CanonicalEvent {
  const data = JSON.parse(readFileSync(join(root, "schemas", "examples", file), "utf8")) as never;
  return createEvent({ type, source: "urn:millwright:test", data, time: "2026-03-06T11:47:09.120-08:00" })._unsafeUnwrap();
}

describe("createAsyncApiDocument", () => {
  test.each(asyncApiTransports)("the %s document parses with @asyncapi/parser without an error diagnostic", async (transport) => {
    const doc = await documentOf(transport);
    const { document, diagnostics } = await parser.parse(JSON.stringify(doc));
    const errors = diagnostics.filter((d) => d.severity === ERROR).map((d) => `${d.code} ${d.path.join("/")}: ${d.message}`);
    expect(errors).toEqual([]);
    expect(document).toBeDefined();
    expect(document!.version()).toBe("3.0.0");
    // Every catalog type is a message with its bundled data schema as the payload, and a send operation.
    const messages = document!.allMessages().all();
    expect(messages.map((m) => m.name()).sort()).toEqual([...eventTypes].sort());
    expect(document!.allOperations().all().every((o) => o.action() === "send")).toBe(true);
    // Types the transport's naming cannot address (its publisher refuses them too) are listed, not given an invented channel.
    const unaddressable = ((doc as unknown as { info: { "x-unaddressable"?: string[] } }).info["x-unaddressable"] ?? []).map((line) => line.split(":")[0]);
    // Every type has a topic: stock and hold facts take the site of the stock they are about (topicValuesOf).
    expect(unaddressable).toEqual([]);
    expect(document!.allOperations().all()).toHaveLength(eventTypes.length - unaddressable.length);
    for (const [id, message] of Object.entries(doc.components.messages)) {
      const title = message.payload.$ref.replace("#/components/schemas/", "");
      expect(doc.components.schemas[title], id).toBeDefined();
    }
  });

  test("payloads reference the bundle's schemas, refs rewritten, nothing typed by hand", async () => {
    const doc = await documentOf("nats");
    const bundle = JSON.parse(readFileSync(join(root, "packages", "model", "schemas", "bundle.schema.json"), "utf8")) as { $defs: Record<string, unknown> };
    expect(Object.keys(doc.components.schemas).sort()).toEqual(Object.keys(bundle.$defs).sort());
    const rewritten = JSON.stringify(bundle.$defs.MachineState).replaceAll("#/$defs/", "#/components/schemas/");
    expect(JSON.stringify(doc.components.schemas.MachineState)).toBe(rewritten);
    expect(doc.components.messages.machinestateChangedV2?.payload).toEqual({ $ref: "#/components/schemas/MachineStateChangedV2Data" });
  });

  test("channel addresses are what the transports' naming functions give a real event, with data levels as parameters", async () => {
    const state = exampleEvent("dev.millwright.machinestate.changed.v1", "machine-state/packml-line-held-with-stop-reason.json");
    const order = exampleEvent("dev.millwright.workorder.released.v1", "work-order/released-order-without-routing.json");
    const fill = (address: string, values: Record<string, string>) => address.replace(/\{([a-z0-9_]+)\}/g, (_, name: string) => values[name] ?? `{${name}}`);
    const mqtt = await documentOf("mqtt");
    const uns = createTopicTemplate(DEFAULT_TOPIC_TEMPLATE)._unsafeUnwrap();
    expect(fill(mqtt.channels.machinestateChangedV1!.address!, { enterprise: "acme", equipment_site_id: "1710", equipment_path: "area-fin", equipment_id: "pack1" })).toBe(
      uns.toTopic(topicValuesOf(state, "acme"))._unsafeUnwrap(),
    );
    expect(mqtt.channels.machinestateChangedV1!.parameters?.equipment_site_id?.location).toBe("$message.payload#/equipment/site/id");
    expect(fill(mqtt.channels.workorderReleasedV1!.address!, { enterprise: "acme", site_id: "1710" })).toBe(uns.toTopic(topicValuesOf(order, "acme"))._unsafeUnwrap());
    const nats = await documentOf("nats");
    expect(fill(nats.channels.workorderReleasedV1!.address!, { site_id: "1710" })).toBe(natsSubjectOf(order));
    expect(fill(nats.channels.machinestateChangedV2!.address!, { equipment_site_id: "1710" })).toBe(natsSubjectOf(state).replace(".changed.", ".changed."));
    const amqp = await documentOf("amqp");
    expect(fill(amqp.channels.workorderReleasedV1!.address!, { site_id: "1710" })).toBe(amqpRoutingKeyOf(order));
    const http = await documentOf("http");
    expect(Object.keys(http.channels)).toEqual(["webhook"]);
    expect(Object.keys(http.channels.webhook!.messages)).toHaveLength(eventTypes.length);
  });

  test("message headers are the binding's binary-mode headers, with the transport's own", async () => {
    const required = async (t: AsyncApiTransport) => (await documentOf(t)).components.messages.workorderReleasedV1!.headers.required;
    expect(await required("http")).toEqual(["content-type", "ce-specversion", "ce-id", "ce-source", "ce-type", "ce-subject", "ce-time", "ce-dataschema", "ce-partitionkey", "ce-sequence", STANDARD_WEBHOOK_HEADERS.id, STANDARD_WEBHOOK_HEADERS.timestamp, STANDARD_WEBHOOK_HEADERS.signature]);
    expect(await required("nats")).toEqual(["content-type", "ce-specversion", "ce-id", "ce-source", "ce-type", "ce-subject", "ce-time", "ce-dataschema", "ce-partitionkey", "ce-sequence", "Nats-Msg-Id"]);
    expect(await required("amqp")).toContain("cloudEvents_type");
    expect(await required("mqtt")).toEqual(["specversion", "id", "source", "type", "subject", "time", "dataschema", "partitionkey", "sequence"]);
    const headers = (await documentOf("amqp")).components.messages.workorderReleasedV1!.headers.properties;
    expect(headers["cloudEvents_type"]?.const).toBe("dev.millwright.workorder.released.v1");
    expect(Object.keys(headers)).toContain("cloudEvents_traceparent");
  });

  test("a deprecated type is marked on its message, its operation and its data schema", async () => {
    // The installed catalog deprecates nothing yet; mark v1 as a later release will.
    const bundle = structuredClone(JSON.parse(readFileSync(join(root, "packages", "model", "schemas", "bundle.schema.json"), "utf8"))) as { $defs: Record<string, { "x-event": Record<string, unknown> }> };
    bundle.$defs["MachineStateChangedData"]!["x-event"]["deprecated"] = { since: "0.3.0", replacedBy: "dev.millwright.machinestate.changed.v2", reason: "v2 always states the operation mode" };
    const plain = await documentOf("mqtt");
    expect(Object.values(plain.components.messages).filter((m) => m["x-deprecated"] !== undefined)).toEqual([]);
    const doc = (await createAsyncApiDocument({ transport: "mqtt", bundle }))._unsafeUnwrap() as unknown as Doc;
    const { errors } = await parseErrors(doc);
    expect(errors).toEqual([]);
    const message = doc.components.messages.machinestateChangedV1!;
    expect(message["x-deprecated"]?.replacedBy).toBe("dev.millwright.machinestate.changed.v2");
    expect(message.tags?.map((t) => t.name)).toEqual(["deprecated"]);
    expect(doc.operations.sendMachinestateChangedV1?.["x-deprecated"]).toBeDefined();
    expect(doc.components.schemas.MachineStateChangedData?.["deprecated"]).toBe(true);
    expect(doc.components.messages.machinestateChangedV2?.["x-deprecated"]).toBeUndefined();
    expect(doc.operations.sendMachinestateChangedV1?.bindings).toEqual({ mqtt: { qos: 1, retain: true, bindingVersion: "0.2.0" } });
  });

  test("a bundle without event types is refused", async () => {
    const result = await createAsyncApiDocument({ transport: "mqtt", bundle: { $defs: { Thing: { type: "string" } } } });
    expect(result._unsafeUnwrapErr()).toMatchObject({ code: "invalid_bundle" });
  });

  test("the parse check can fail: a document whose operation points at no channel has an error diagnostic", async () => {
    const doc = await documentOf("amqp");
    const [first] = Object.values(doc.operations);
    first!.channel = { $ref: "#/channels/nowhere" };
    const { diagnostics } = await parser.parse(JSON.stringify(doc));
    expect(diagnostics.filter((d) => d.severity === ERROR).length).toBeGreaterThan(0);
  });
});

describe("the asyncapi command", () => {
  const run = async (values: Record<string, string>, positionals: string[] = []) => {
    const out: string[] = [];
    const err: string[] = [];
    const usage: string[] = [];
    const code = await asyncapi(
      { values, positionals },
      { out: async (line) => void out.push(line), err: (line) => void err.push(line), usage: (problem) => (usage.push(problem), 2) },
    );
    return { code, out, err, usage };
  };

  test("writes the document to --out, or to standard output; mqtt by default", async () => {
    const dir = mkdtempSync(join(tmpdir(), "asyncapi-"));
    try {
      const file = join(dir, "nats.asyncapi.json");
      const written = await run({ transport: "nats", out: file });
      expect(written).toMatchObject({ code: 0, out: [], usage: [] });
      expect(written.err).toEqual([`millwright: wrote the AsyncAPI 3.0 document (nats) to ${file}`]);
      const doc = JSON.parse(readFileSync(file, "utf8")) as { asyncapi: string; servers: Record<string, { protocol: string }> };
      expect(doc.asyncapi).toBe("3.0.0");
      expect(doc.servers.nats?.protocol).toBe("nats");
      const printed = await run({});
      expect(printed.code).toBe(0);
      expect((JSON.parse(printed.out.join("\n")) as { servers: Record<string, unknown> }).servers).toHaveProperty("mqtt");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("an unknown transport or a positional argument is a usage error; an unwritable --out exits 2", async () => {
    expect(await run({ transport: "kafka" })).toMatchObject({ code: 2, usage: ['--transport must be one of mqtt, nats, amqp, http, not "kafka"'] });
    expect((await run({}, ["x.json"])).code).toBe(2);
    const unwritable = await run({ transport: "http", out: join(tmpdir(), "no-such-dir-asyncapi", "x", "doc.json") });
    expect(unwritable.code).toBe(2);
    expect(unwritable.err[0]).toMatch(/error\[unwritable_output\]: cannot be written: ENOENT/);
  });
});
