import { writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { SchemaNode } from "@millwright/contract";
import { eventCatalog } from "@millwright/model";
import { amqp, decodeHeaderValue, http, mqtt5, nats, type CanonicalEvent, type CreatedEvent } from "@millwright/events";
import { err, ok, type Result } from "neverthrow";
import { diagnostic } from "./diagnostic.js";
import { oneOf } from "./help.js";

/** The transports an AsyncAPI document can describe. */
export const asyncApiTransports = ["mqtt", "nats", "amqp", "http"] as const;

/** A transport an AsyncAPI document can describe. */
export type AsyncApiTransport = (typeof asyncApiTransports)[number];

/** Why no document was made; discriminated on `code`. */
export interface AsyncApiError {
  /** `missing_dependency`: the transport's client library is not installed; `invalid_bundle`: the bundle has no event catalog. */
  readonly code: "missing_dependency" | "invalid_bundle";
  /** The module or bundle definition concerned. */
  readonly path: string;
  /** What is wrong and what to do, for people. */
  readonly message: string;
}

/** A deprecation mark of the catalog (`x-event.deprecated` of an event schema). */
interface Deprecation {
  readonly since: string;
  readonly replacedBy: string;
  readonly reason: string;
}

/** One event type as the bundle declares it (`x-event` of its data schema). */
interface CatalogEvent {
  readonly type: string;
  readonly title: string;
  readonly entity: string;
  readonly description: string;
  /** The data schema's `$id`, from the installed catalog; absent for a type it does not have. */
  readonly dataschema?: string;
  readonly deprecated?: Deprecation;
}

/** How one transport names an event's destination and carries its attributes, as its own code does. */
interface Convention {
  readonly protocol: string;
  readonly protocolVersion?: string;
  /** The broker URL the transport uses when none is given; credentials are dropped. */
  readonly defaultUrl?: string;
  readonly description: string;
  /** The destination of one event: topic, subject or routing key (or why there is none); undefined when every event goes to one endpoint. */
  readonly addressOf?: (event: CanonicalEvent) => Result<string, string>;
  /** The binary-mode message of one event: its headers (or properties) and where they travel. */
  readonly headersOf: (event: CanonicalEvent) => Readonly<Record<string, unknown>>;
  /** Headers every message carries besides the attributes (a signature). */
  readonly extraHeaders?: Readonly<Record<string, SchemaNode>>;
  readonly operationBindings?: (event: CanonicalEvent) => SchemaNode;
  readonly channelBindings?: SchemaNode;
}

const ENVELOPE_ID = "https://schemas.millwright.dev/v1/bundle.schema.json";

/** Every envelope attribute, with a value that names it; the binding under test shows where each travels. */
function probeEvent(e: CatalogEvent, data: unknown): CanonicalEvent {
  const probe = {
    specversion: "1.0",
    id: "{id}",
    source: "{source}",
    type: e.type,
    subject: "{subject}",
    time: "{time}",
    datacontenttype: "application/json",
    ...(e.dataschema === undefined ? {} : { dataschema: e.dataschema }),
    partitionkey: "{partitionkey}",
    sequence: "{sequence}",
    traceparent: "{traceparent}",
    tracestate: "{tracestate}",
    data,
  } satisfies Record<Exclude<keyof CanonicalEvent, "extensions" | "dataschema">, unknown>;
  return probe as unknown as CanonicalEvent;
}

type AlwaysSet = { [K in keyof CreatedEvent]-?: undefined extends CreatedEvent[K] ? never : K }[keyof CreatedEvent];
/** The attributes `createEvent` always sets, so every Millwright message carries them (datacontenttype travels as the content type). */
const ALWAYS = ["specversion", "id", "source", "type", "subject", "time", "dataschema", "partitionkey", "sequence"] as const satisfies readonly AlwaysSet[];
// Fails to compile when createEvent starts to set an attribute this list does not name.
const _everyAlwaysListed: Exclude<AlwaysSet, (typeof ALWAYS)[number] | "data" | "datacontenttype"> extends never ? true : never = true;
void _everyAlwaysListed;

/** A URL as a server host and pathname, without credentials. */
function hostOf(url: string): { host: string; pathname?: string } {
  const u = new URL(url);
  return { host: u.port === "" ? u.hostname : `${u.hostname}:${u.port}`, ...(u.pathname.length > 1 ? { pathname: u.pathname } : {}) };
}

/**
 * Data for one entity in which every string the schema allows is a marker `{a_b_c}` naming its
 * JSON Pointer, so a transport's naming function shows which data fields its address reads.
 */
function probeData(defs: Record<string, SchemaNode>, node: SchemaNode | undefined, pointer: string[], depth = 0): unknown {
  const resolved = deref(defs, node);
  if (resolved === undefined || depth > 6) return undefined;
  const types = Array.isArray(resolved["type"]) ? (resolved["type"] as string[]) : [resolved["type"]];
  if (types.includes("object") || resolved["properties"] !== undefined) {
    const out: Record<string, unknown> = {};
    // The properties of every variant too (a hold's scope is one of three): the probe has every path a record may have.
    const variants = ((resolved["oneOf"] ?? []) as SchemaNode[]).map((v) => deref(defs, v)?.["properties"] ?? {});
    for (const properties of [resolved["properties"] ?? {}, ...variants]) {
      for (const [name, child] of Object.entries(properties as Record<string, SchemaNode>)) {
        if (Object.hasOwn(out, name)) continue;
        const value = probeData(defs, child, [...pointer, name], depth + 1);
        if (value !== undefined) out[name] = value;
      }
    }
    return out;
  }
  if (types.includes("array")) {
    const item = probeData(defs, resolved["items"] as SchemaNode | undefined, pointer, depth + 1);
    return typeof item === "string" ? [item] : undefined;
  }
  if (types.includes("string") && resolved["enum"] === undefined && resolved["const"] === undefined) return `{${pointer.join("_").toLowerCase()}}`;
  return undefined;
}

/**
 * The places `topicValuesOf` reads a site from when the record has no site of its own (a movement's
 * locations, a hold's scope), in its order: a location names the first, the description all.
 */
const SITE_FALLBACK = new Set(["/from/site/id", "/to/site/id", "/scope/site/id", "/scope/batch/site/id", "/scope/location/site/id"]);

function deref(defs: Record<string, SchemaNode>, node: SchemaNode | undefined): SchemaNode | undefined {
  let current = node;
  for (let i = 0; i < 16 && typeof current?.["$ref"] === "string"; i++) current = defs[String(current["$ref"]).replace("#/$defs/", "")];
  return current;
}

/** Loads a transport module; its broker client is an optional peer, so it may be missing. */
async function load<TModule>(module: string, needs: string, importer: () => Promise<TModule>): Promise<Result<TModule, AsyncApiError>> {
  try {
    return ok(await importer());
  } catch (cause) {
    return err({ code: "missing_dependency", path: module, message: `${module} cannot be loaded (${(cause as Error).message}); describing this transport needs ${needs} installed beside @millwright/cli` });
  }
}

async function conventionOf(transport: AsyncApiTransport): Promise<Result<Convention, AsyncApiError>> {
  switch (transport) {
    case "mqtt": {
      const m = await load("@millwright/transports/mqtt", "mqtt", () => import("@millwright/transports/mqtt"));
      if (m.isErr()) return err(m.error);
      const { createTopicTemplate, DEFAULT_TOPIC_TEMPLATE, defaultMqttUrl, isMachineState, topicValuesOf } = m.value;
      const template = createTopicTemplate(DEFAULT_TOPIC_TEMPLATE);
      // The transport's own constant: a template it refuses is a bug in the transport.
      if (template.isErr()) throw new Error(`DEFAULT_TOPIC_TEMPLATE is refused: ${template.error.message}`);
      const toTopic = template.value.toTopic;
      return ok({
        protocol: "mqtt",
        protocolVersion: "5",
        defaultUrl: defaultMqttUrl(),
        description: `MQTT 5 unified namespace: one topic per event from the template ${DEFAULT_TOPIC_TEMPLATE}, QoS 1, binary content mode (the attributes as MQTT 5 user properties, the data as the payload, datacontenttype as the Content Type property).`,
        addressOf: (event) => toTopic(topicValuesOf(event, "{enterprise}")).mapErr((e: { readonly message: string }) => e.message),
        headersOf: (event) => mqtt5.binary(event).properties.userProperties ?? {},
        operationBindings: (event) => ({ mqtt: { qos: 1, retain: isMachineState(event), bindingVersion: "0.2.0" } }),
      });
    }
    case "nats": {
      const m = await load("@millwright/transports/nats", "@nats-io/transport-node and @nats-io/jetstream", () => import("@millwright/transports/nats"));
      if (m.isErr()) return err(m.error);
      const { defaultNatsUrl, natsSubjectOf } = m.value;
      return ok({
        protocol: "nats",
        defaultUrl: defaultNatsUrl(),
        description: "NATS JetStream: one subject per event, Nats-Msg-Id = the event id (the stream drops a repeated publish within its duplicate window), binary content mode (ce- headers, content-type, the data as the body).",
        addressOf: (event) => ok(natsSubjectOf(event)),
        headersOf: (event) => nats.binary(event).headers ?? {},
        extraHeaders: { "Nats-Msg-Id": { type: "string", description: "The event id: JetStream drops a second publish of the same event within the stream's duplicate window." } },
      });
    }
    case "amqp": {
      const m = await load("@millwright/transports/amqp", "amqplib", () => import("@millwright/transports/amqp"));
      if (m.isErr()) return err(m.error);
      const { amqpRoutingKeyOf, defaultAmqpUrl } = m.value;
      return ok({
        protocol: "amqp",
        protocolVersion: "0.9.1",
        defaultUrl: defaultAmqpUrl(),
        description: "AMQP 0-9-1: persistent messages to the durable topic exchange the publisher is given, one routing key per event, publisher confirms; binary content mode (the attributes as cloudEvents_ headers, content-type, message-id = the event id).",
        addressOf: (event) => ok(amqpRoutingKeyOf(event)),
        headersOf: (event) => amqp.binary(event).applicationProperties,
        channelBindings: { amqp: { is: "routingKey", exchange: { type: "topic", durable: true, autoDelete: false }, bindingVersion: "0.3.0" } },
        operationBindings: () => ({ amqp: { deliveryMode: 2, mandatory: false, bindingVersion: "0.3.0" } }),
      });
    }
    case "http": {
      const m = await load("@millwright/transports/http", "nothing more", () => import("@millwright/transports/http"));
      if (m.isErr()) return err(m.error);
      const { STANDARD_WEBHOOK_HEADERS: H } = m.value;
      return ok({
        protocol: "https",
        description:
          "HTTP webhooks: every event is POSTed to the receiver's one URL, signed as the Standard Webhooks specification says (webhook-id, webhook-timestamp, webhook-signature; HMAC-SHA256 with a whsec_ secret), retried on 408, 425, 429 and 5xx with the same webhook-id. Described here in binary content mode (ce- headers); the sender's default is structured mode (application/cloudevents+json), which carries the same attributes in the body. Senders and receivers configured with signature: \"millwright\" use the earlier millwright-signature header instead.",
        headersOf: (event) => http.binary(event).headers,
        extraHeaders: {
          [H.id]: { type: "string", description: "The message id: the same on every retry of one message (a digest of the event's source and id)." },
          [H.timestamp]: { type: "string", pattern: "^[0-9]+$", description: "Unix seconds when the message was signed; the receiver refuses one outside its tolerance." },
          [H.signature]: {
            type: "string",
            pattern: "^v1,[A-Za-z0-9+/]+=*( v1,[A-Za-z0-9+/]+=*)*$",
            description: "Space-separated v1,<base64 HMAC-SHA256 of id.timestamp.body>, one per secret in use (key rotation); the receiver accepts the message when one matches.",
          },
        },
        operationBindings: () => ({ http: { method: "POST", bindingVersion: "0.3.0" } }),
      });
    }
  }
}

/** The event catalog of a bundle: every definition with an `x-event` annotation, in type order. */
function catalogOf(defs: Record<string, SchemaNode>): CatalogEvent[] {
  const out: CatalogEvent[] = [];
  for (const [title, def] of Object.entries(defs)) {
    const meta = def["x-event"] as { type?: unknown; entity?: unknown; deprecated?: Deprecation } | undefined;
    if (meta === undefined || typeof meta.type !== "string" || typeof meta.entity !== "string") continue;
    const dataschema = (eventCatalog as Readonly<Record<string, { readonly dataSchema: string } | undefined>>)[meta.type]?.dataSchema;
    out.push({
      type: meta.type,
      title,
      entity: meta.entity,
      description: String(def["description"] ?? ""),
      ...(dataschema === undefined ? {} : { dataschema }),
      ...(meta.deprecated === undefined ? {} : { deprecated: meta.deprecated }),
    });
  }
  return out.sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : 0));
}

/** A bundle definition as an AsyncAPI Schema Object: refs into components, OpenAPI-style discriminator as the property name. */
function toAsyncApiSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(toAsyncApiSchema);
  if (typeof node !== "object" || node === null) return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === "$ref" && typeof value === "string") out[key] = value.replace(/^#\/\$defs\//, "#/components/schemas/");
    else if (key === "discriminator" && typeof value === "object" && value !== null) out[key] = (value as { propertyName: string }).propertyName;
    else if (key === "enum" || key === "const" || key === "examples" || key.startsWith("x-")) out[key] = value;
    else out[key] = toAsyncApiSchema(value);
  }
  return out;
}

/** `dev.millwright.machinestate.changed.v1` → `machinestateChangedV1`, an id AsyncAPI accepts. */
function idOf(type: string): string {
  const words = type.replace(/^dev\.millwright\./, "").split(".");
  return words.map((w, i) => (i === 0 ? w : w.charAt(0).toUpperCase() + w.slice(1))).join("");
}

/** The headers schema of a message: each attribute's header as the binding writes it, and the transport's own headers. */
function headersSchema(convention: Convention, e: CatalogEvent, data: unknown): SchemaNode {
  const probe = probeEvent(e, data);
  const headers = convention.headersOf(probe);
  const attributeOf = new Map<string, string>();
  const values = Object.fromEntries(Object.entries(probe).filter(([k]) => k !== "data")) as Record<string, unknown>;
  for (const [header, raw] of Object.entries(headers)) {
    const text = typeof raw === "string" ? raw : String(raw);
    const decoded = decodeHeaderValue(text) ?? text;
    const attribute = Object.entries(values).find(([, v]) => v === text || v === decoded)?.[0];
    if (attribute !== undefined) attributeOf.set(header, attribute);
  }
  const properties: Record<string, SchemaNode> = {};
  const required: string[] = [];
  for (const [header] of Object.entries(headers)) {
    const attribute = attributeOf.get(header);
    if (attribute === undefined) continue;
    const schema: SchemaNode = { type: "string", description: `The CloudEvents attribute ${attribute}.` };
    if (attribute === "type" || attribute === "dataschema" || attribute === "specversion" || attribute === "datacontenttype") schema["const"] = values[attribute];
    properties[header] = schema;
    if ((ALWAYS as readonly string[]).includes(attribute) || attribute === "datacontenttype") required.push(header);
  }
  for (const [name, schema] of Object.entries(convention.extraHeaders ?? {})) {
    properties[name] = schema;
    required.push(name);
  }
  return { type: "object", properties, required };
}

/** What {@link createAsyncApiDocument} describes. */
export interface AsyncApiOptions {
  /** The transport whose naming and binding the document describes. */
  readonly transport: AsyncApiTransport;
  /** The contract bundle (as `@millwright/model/schemas/bundle.schema.json`); default: the installed one. */
  readonly bundle?: SchemaNode;
}

/**
 * Writes the AsyncAPI 3.0 document of the event catalog over one transport: a channel per event
 * type at the topic, subject or routing key the transport's own naming function gives (with its
 * data-derived levels as parameters), a send operation per type, messages whose headers are the
 * CloudEvents attributes as the transport's binding writes them in binary mode, and payloads that
 * reference the bundled data schemas. Deprecated types are marked (`x-deprecated`, a tag).
 *
 * @param options - the transport, and optionally another bundle
 * @returns the document as plain JSON data, or why it could not be made
 * @example
 * const doc = (await createAsyncApiDocument({ transport: "nats" }))._unsafeUnwrap();
 * writeFileSync("millwright.asyncapi.json", JSON.stringify(doc, null, 2));
 */
export async function createAsyncApiDocument(options: AsyncApiOptions): Promise<Result<SchemaNode, AsyncApiError>> {
  const bundle = options.bundle ?? (createRequire(import.meta.url)("@millwright/model/schemas/bundle.schema.json") as SchemaNode);
  const defs = bundle["$defs"] as Record<string, SchemaNode> | undefined;
  const catalog = defs === undefined ? [] : catalogOf(defs);
  if (defs === undefined || catalog.length === 0) return err({ code: "invalid_bundle", path: "$defs", message: "the bundle declares no event type (no definition with x-event)" });
  const convention = await conventionOf(options.transport);
  if (convention.isErr()) return err(convention.error);
  const c = convention.value;
  const schemas: Record<string, unknown> = {};
  for (const [name, def] of Object.entries(defs)) schemas[name] = toAsyncApiSchema(def);
  const channels: Record<string, SchemaNode> = {};
  const operations: Record<string, SchemaNode> = {};
  const messages: Record<string, SchemaNode> = {};
  const shared = c.addressOf === undefined;
  const unaddressable: string[] = [];
  if (shared) channels["webhook"] = { address: null, title: "Webhook receiver", description: "The receiver's URL: every event type is POSTed to it.", messages: {} };
  for (const e of catalog) {
    const id = idOf(e.type);
    const data = probeData(defs, defs[e.entity], []);
    const probe = probeEvent(e, data);
    const deprecated = e.deprecated === undefined ? {} : { "x-deprecated": e.deprecated, tags: [{ name: "deprecated", description: `Deprecated since ${e.deprecated.since}: use ${e.deprecated.replacedBy}. ${e.deprecated.reason}` }] };
    const note = e.deprecated === undefined ? "" : ` Deprecated since ${e.deprecated.since}: use ${e.deprecated.replacedBy} (${e.deprecated.reason}).`;
    if (e.deprecated !== undefined) (schemas[e.title] as Record<string, unknown>)["deprecated"] = true;
    messages[id] = {
      name: e.type,
      title: e.title,
      summary: `${e.type}${e.deprecated === undefined ? "" : " (deprecated)"}`,
      description: `${e.description}${note}${e.dataschema === undefined ? "" : ` Data schema: ${e.dataschema}.`}`,
      contentType: "application/json",
      headers: headersSchema(c, e, data),
      payload: { $ref: `#/components/schemas/${e.title}` },
      ...deprecated,
    };
    const channelId = shared ? "webhook" : id;
    if (shared) {
      (channels["webhook"]!["messages"] as Record<string, unknown>)[id] = { $ref: `#/components/messages/${id}` };
    } else {
      const address = c.addressOf!(probe);
      if (address.isErr()) {
        // The transport cannot name a destination for this type (its publisher refuses such events too): said, not invented.
        unaddressable.push(`${e.type}: ${address.error}`);
        continue;
      }
      const parameters: Record<string, SchemaNode> = {};
      for (const [, name] of address.value.matchAll(/\{([a-z0-9_]+)\}/g)) {
        const pointer = `/${(name as string).replace(/_/g, "/")}`;
        parameters[name as string] =
          name === "enterprise"
            ? { description: "The publisher's enterprise option: the first level of the unified namespace." }
            : SITE_FALLBACK.has(pointer)
              ? {
                  description: `The site of the stock the event is about, as the transport normalizes it (lower case, separators replaced): the first of the data's ${[...SITE_FALLBACK].join(", ")} that is present (topicValuesOf).`,
                  location: `$message.payload#${pointer}`,
                }
              : { description: `The event data's ${pointer}, as the transport normalizes it (lower case, separators replaced).`, location: `$message.payload#${pointer}` };
      }
      channels[channelId] = {
        address: address.value,
        title: e.type,
        description: `${e.type} over ${c.protocol}.`,
        messages: { [id]: { $ref: `#/components/messages/${id}` } },
        ...(Object.keys(parameters).length === 0 ? {} : { parameters }),
        ...(c.channelBindings === undefined ? {} : { bindings: c.channelBindings }),
      };
    }
    operations[`send${id.charAt(0).toUpperCase()}${id.slice(1)}`] = {
      action: "send",
      channel: { $ref: `#/channels/${channelId}` },
      title: `Publish ${e.type}`,
      summary: `A Millwright producer publishes ${e.type}.${note}`,
      messages: [{ $ref: `#/channels/${channelId}/messages/${id}` }],
      ...(c.operationBindings === undefined ? {} : { bindings: c.operationBindings(probe) }),
      ...deprecated,
    };
  }
  const server: SchemaNode =
    c.defaultUrl === undefined
      ? { host: "{host}", protocol: c.protocol, description: "The receiver's host and port.", variables: { host: { description: "The receiver's host and port.", examples: ["mes.example:443"] } } }
      : { ...hostOf(c.defaultUrl), protocol: c.protocol, description: "The default broker address of the transport (set by its MILLWRIGHT_*_URL environment variable)." };
  if (c.protocolVersion !== undefined) server["protocolVersion"] = c.protocolVersion;
  return ok({
    asyncapi: "3.0.0",
    id: `urn:millwright:catalog:${options.transport}`,
    info: {
      title: `Millwright event catalog over ${options.transport.toUpperCase()}`,
      version: String((bundle["x-version"] as string | undefined) ?? createRequire(import.meta.url)("@millwright/model/package.json").version),
      description: `${c.description}\n\nEvery message is a CloudEvent of the Millwright catalog; its data is the entity as it stands after the fact, validated by ${ENVELOPE_ID}.${
        unaddressable.length === 0 ? "" : `\n\nThe transport's default naming gives no destination for these types, so they have a message but no channel here: ${unaddressable.join("; ")}.`
      }`,
      ...(unaddressable.length === 0 ? {} : { "x-unaddressable": unaddressable }),
    },
    defaultContentType: "application/json",
    servers: { [options.transport]: server },
    channels,
    operations,
    components: { messages, schemas },
  });
}

/** What the command writes through: standard output, standard error, and the usage error printer. */
interface CommandIo {
  readonly out: (line: string) => Promise<void>;
  readonly err: (line: string) => void;
  readonly usage: (problem: string) => number;
}

/**
 * `millwright asyncapi [--transport mqtt|nats|amqp|http] [--out file]`: writes the AsyncAPI 3.0
 * document of the catalog over one transport to standard output or a file.
 *
 * @param invocation - the options and positionals read from the command line
 * @param io - where to write
 * @returns the exit code: 0 written, 2 usage error or nothing could be written
 */
export async function asyncapi(
  { values, positionals }: { readonly values: Readonly<Record<string, string | boolean | undefined>>; readonly positionals: readonly string[] },
  io: CommandIo,
): Promise<number> {
  if (positionals.length > 0) return io.usage(`asyncapi takes no file (got ${JSON.stringify(positionals[0])}); write to one with --out`);
  const transport = oneOf("transport", String(values["transport"] ?? "mqtt"), asyncApiTransports);
  if (transport.isErr()) return io.usage(transport.error);
  const doc = await createAsyncApiDocument({ transport: transport.value });
  if (doc.isErr()) {
    io.err(diagnostic("millwright", doc.error.code, doc.error.message));
    return 2;
  }
  const text = `${JSON.stringify(doc.value, null, 2)}\n`;
  const out = values["out"];
  if (typeof out !== "string") {
    await io.out(text.trimEnd());
    return 0;
  }
  try {
    writeFileSync(out, text);
  } catch (cause) {
    io.err(diagnostic(out, "unwritable_output", `cannot be written: ${(cause as Error).message}`));
    return 2;
  }
  io.err(`millwright: wrote the AsyncAPI 3.0 document (${transport.value}) to ${out}`);
  return 0;
}
