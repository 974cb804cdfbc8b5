// Spans of the adapter's calls to SAP, through @opentelemetry/api only: without a registered SDK
// the tracer is the API's no-op tracer, and a span costs an object allocation.
import { toTraceHeaders, type TraceHeaders } from "@millwright/events";
import { context as contextApi, SpanStatusCode, trace, type Attributes, type Context, type SpanKind } from "@opentelemetry/api";
import type { Result } from "neverthrow";
import packageJson from "../package.json" with { type: "json" };

/** The instrumentation scope of the adapter's spans. */
const TRACER_NAME = "@millwright/adapter-sap";

/** What a traced operation gets: the context of its span, and the W3C Trace Context naming that span. */
export interface SpanScope {
  readonly context: Context;
  /** `traceparent` and `tracestate` of the span, for an event; undefined when the span is invalid. */
  readonly trace: TraceHeaders | undefined;
  /** The same as HTTP request headers (none when the span is invalid). */
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * Runs `run` in a new span that is a child of `parent`, ends the span when the result is in, and
 * marks it as failed for an `Err`. The span is also the active span while `run` runs, where a
 * context manager is registered.
 */
export async function inSpan<T, E extends { readonly message: string }>(
  name: string,
  options: { readonly parent: Context; readonly kind: SpanKind; readonly attributes: Attributes },
  run: (scope: SpanScope) => Promise<Result<T, E>>,
): Promise<Result<T, E>> {
  const span = trace.getTracer(TRACER_NAME, packageJson.version).startSpan(name, { kind: options.kind, attributes: options.attributes }, options.parent);
  const ctx = trace.setSpan(options.parent, span);
  const headers = toTraceHeaders(span.spanContext());
  try {
    const result = await contextApi.with(ctx, () => run({ context: ctx, trace: headers, headers: headers === undefined ? {} : { ...headers } }));
    if (result.isErr()) span.setStatus({ code: SpanStatusCode.ERROR, message: result.error.message });
    return result;
  } catch (cause) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: cause instanceof Error ? cause.message : String(cause) });
    throw cause;
  } finally {
    span.end();
  }
}
