import { createRequire } from "node:module";
import type * as OtelApi from "@opentelemetry/api";
import type { Context, SpanContext } from "@opentelemetry/api";
import type { CanonicalEvent } from "./envelope.js";
import { isTracestate, readTraceparent } from "./syntax.js";

let otelApi: typeof OtelApi | undefined;

/**
 * `@opentelemetry/api`, loaded on the first call of a trace helper rather than when the package
 * loads: a program that never uses them (`millwright validate`) does not pay for loading it.
 * Synchronous in both builds: `require` resolved from this module's file (`__filename` in the
 * CommonJS build and wherever a loader defines it, `import.meta.url` in ES modules; tsup's shims
 * keep the CommonJS build free of an empty `import.meta`). The API keeps its state (the context
 * manager, the tracer provider) in a global registry, so this copy sees what the application
 * registered through its own import.
 */
function otel(): typeof OtelApi {
  otelApi ??= createRequire(typeof __filename === "string" ? __filename : import.meta.url)("@opentelemetry/api") as typeof OtelApi;
  return otelApi;
}

/**
 * W3C Trace Context as it travels in an event (the CloudEvents distributed tracing extension) or
 * in HTTP headers: `traceparent`, and `tracestate` when there is one.
 */
export interface TraceHeaders {
  readonly traceparent: string;
  readonly tracestate?: string;
}

const HEX = /^[0-9a-f]+$/;

/**
 * Writes a span context as W3C Trace Context (version 00). Works with `@opentelemetry/api` alone:
 * no propagator has to be registered.
 *
 * @param spanContext - the span context of a span, local or remote
 * @returns `traceparent` (and `tracestate`, when the span context has a non-empty one), or
 *   undefined for an invalid span context (the no-op tracer's, for example)
 * @example
 * const headers = toTraceHeaders(trace.getSpanContext(context.active()));
 * await fetch(url, { headers: { ...headers } });
 */
export function toTraceHeaders(spanContext: SpanContext | undefined): TraceHeaders | undefined {
  if (spanContext === undefined) return undefined;
  const traceId = spanContext.traceId.toLowerCase();
  const spanId = spanContext.spanId.toLowerCase();
  if (traceId.length !== 32 || spanId.length !== 16 || !HEX.test(traceId) || !HEX.test(spanId)) return undefined;
  const traceparent = `00-${traceId}-${spanId}-${(spanContext.traceFlags & 0xff).toString(16).padStart(2, "0")}`;
  if (!("traceId" in readTraceparent(traceparent))) return undefined;
  const tracestate = spanContext.traceState?.serialize();
  return tracestate === undefined || tracestate === "" || !isTracestate(tracestate) ? { traceparent } : { traceparent, tracestate };
}

/**
 * Reads W3C Trace Context into an OpenTelemetry context whose span context is the remote parent
 * it names. A `traceparent` that is absent or invalid is ignored, as W3C Trace Context requires
 * (the result is then `base` unchanged); an invalid `tracestate` alone is dropped.
 *
 * @param headers - `traceparent` and `tracestate` as received: a value of any type is accepted and checked
 * @param base - the context to add the span context to; `ROOT_CONTEXT` by default
 * @returns the context to start child spans in
 * @example
 * const parent = fromTraceHeaders({ traceparent: req.headers.traceparent, tracestate: req.headers.tracestate });
 * tracer.startActiveSpan("wms.webhook", {}, parent, (span) => { … });
 */
export function fromTraceHeaders(headers: { readonly traceparent?: unknown; readonly tracestate?: unknown }, base?: Context): Context {
  const { traceparent, tracestate } = headers;
  if (typeof traceparent !== "string") return base ?? otel().ROOT_CONTEXT;
  const fields = readTraceparent(traceparent.trim());
  if ("problem" in fields) return base ?? otel().ROOT_CONTEXT;
  const { createTraceState, ROOT_CONTEXT, trace } = otel();
  const state = Array.isArray(tracestate) ? tracestate.join(",") : tracestate;
  const spanContext: SpanContext = {
    traceId: fields.traceId,
    spanId: fields.parentId,
    traceFlags: fields.flags,
    isRemote: true,
    ...(typeof state === "string" && state.trim() !== "" && isTracestate(state) ? { traceState: createTraceState(state) } : {}),
  };
  return trace.setSpanContext(base ?? ROOT_CONTEXT, spanContext);
}

/**
 * Puts the trace context of the active (or the given) OpenTelemetry context on an event: its
 * span context becomes the event's `traceparent` and `tracestate`. Reads the span context
 * directly, so it works with `@opentelemetry/api` alone, whether or not a propagator or an SDK is
 * registered. When the context holds no valid span context (no span, or the no-op tracer's),
 * the event is returned as it is.
 *
 * @param event - a canonical event
 * @param context - the context whose span is the event's producer; the active context by default
 * @returns a frozen copy of the event with the trace context, or the event itself
 * @example
 * tracer.startActiveSpan("mes.order.dispatch", (span) => {
 *   const event = withTraceContext(createEvent(input)._unsafeUnwrap());
 *   span.end();
 * });
 */
export function withTraceContext<TEvent extends CanonicalEvent>(event: TEvent, context?: Context): TEvent {
  const { context: contextApi, trace } = otel();
  const headers = toTraceHeaders(trace.getSpanContext(context ?? contextApi.active()));
  if (headers === undefined) return event;
  if (headers.traceparent === event.traceparent && headers.tracestate === event.tracestate) return event;
  // Rebuild in the canonical member order: the trace attributes sit before extensions and data.
  const out: Record<string, unknown> = {};
  let placed = false;
  const place = (): void => {
    out["traceparent"] = headers.traceparent;
    if (headers.tracestate !== undefined) out["tracestate"] = headers.tracestate;
    placed = true;
  };
  for (const [name, value] of Object.entries(event)) {
    if (name === "traceparent" || name === "tracestate") continue;
    if (!placed && (name === "extensions" || name === "data")) place();
    out[name] = value;
  }
  if (!placed) place();
  return Object.freeze(out) as unknown as TEvent;
}

/**
 * Reads the trace context an event carries into an OpenTelemetry context, so that a consumer's
 * spans continue the producer's trace: the event's `traceparent` becomes the remote parent.
 *
 * @param event - a canonical event (or anything with its `traceparent` and `tracestate`)
 * @param base - the context to add the span context to; `ROOT_CONTEXT` by default
 * @returns the context to start the consumer's spans in; `base` when the event carries no trace context
 * @example
 * const parent = traceContextOf(event);
 * tracer.startActiveSpan("mes.order.apply", {}, parent, (span) => { … span.end(); });
 */
export function traceContextOf(event: Pick<CanonicalEvent, "traceparent" | "tracestate">, base?: Context): Context {
  if (event.traceparent === undefined) return base ?? otel().ROOT_CONTEXT;
  return fromTraceHeaders(event, base);
}
