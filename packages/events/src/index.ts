// Public API of @millwright/events. Explicit named exports only: what is not listed here is internal.
export { createEvent, deriveEventId, ingestEvent, type CreateEventInput, type CreatedEvent, type IngestEventInput, type IngestedEvent } from "./create-event.js";
export { createEventFactory, type EventFactory, type EventFactoryOptions } from "./event-factory.js";
export { parseEvent, parseEventBatch, type EventInput } from "./parse-event.js";
export { serializeEvent, serializeEventBatch, eventAttributes } from "./serialize.js";
export type { CanonicalEvent, EventEnvelope, ExtensionValue } from "./envelope.js";
export type { EventAttributeError, EventDataError, EventError, EventErrorCode } from "./errors.js";
export { MILLWRIGHT_NAMESPACE, uuidV5 } from "./uuid.js";
export { parseMillwrightSource, toMillwrightSource, type MillwrightSource } from "./millwright-source.js";
export { encodeHeaderValue, decodeHeaderValue } from "./percent.js";
export { BATCH_CONTENT_TYPE, STRUCTURED_CONTENT_TYPE, type Binding, type HeaderValue } from "./binding.js";
export { http, type HttpBinding, type HttpMessage } from "./bindings/http.js";
export { kafka, type KafkaMessage } from "./bindings/kafka.js";
export { mqtt3, mqtt5, parseMqtt5Message, type Mqtt3Message, type Mqtt5Message, type Mqtt5Read } from "./bindings/mqtt.js";
export { amqp, type AmqpMessage, type AmqpPropertyValue } from "./bindings/amqp.js";
export { nats, type NatsMessage } from "./bindings/nats.js";
export { fromTraceHeaders, toTraceHeaders, traceContextOf, withTraceContext, type TraceHeaders } from "./trace.js";
export { catalogUpcasters, createUpcasterRegistry, defineUpcaster, machineStateChangedV1ToV2, type Upcaster, type UpcasterRegistry } from "./upcast.js";
