/**
 * The demo is the application, so it owns the OpenTelemetry SDK: a tracer provider with an
 * in-memory exporter and AsyncLocalStorage contexts. The libraries only use `@opentelemetry/api`;
 * without this they would trace nothing and cost nothing.
 */
import type { CanonicalEvent } from "@millwright/events";
import { context, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from "@opentelemetry/sdk-trace-base";

/** The spans the demo recorded, and a way to put the SDK away. */
export interface DemoTracing {
  readonly spans: () => readonly ReadableSpan[];
  readonly shutdown: () => Promise<void>;
}

/** Registers the SDK globally; call once, before the story runs. */
export function startTracing(): DemoTracing {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(provider);
  return {
    spans: () => exporter.getFinishedSpans(),
    shutdown: async () => {
      await provider.shutdown();
      trace.disable();
      context.disable();
    },
  };
}

/** One trace of the story: its id, its spans in start order, and the events that carry it. */
export interface StoryTrace {
  readonly traceId: string;
  readonly spans: readonly string[];
  readonly events: readonly CanonicalEvent[];
}

/**
 * The trace that the released order's event belongs to: every span recorded in it and every
 * canonical event whose `traceparent` names it.
 */
export function orderTrace(spans: readonly ReadableSpan[], events: readonly CanonicalEvent[], orderId: string): StoryTrace | undefined {
  const released = events.find((e) => e.type === "dev.millwright.workorder.released.v1" && e.subject === orderId && e.traceparent !== undefined);
  const traceId = released?.traceparent?.split("-")[1];
  if (traceId === undefined) return undefined;
  const mine = spans.filter((s) => s.spanContext().traceId === traceId);
  const startOf = (s: ReadableSpan) => s.startTime[0] * 1e9 + s.startTime[1];
  return {
    traceId,
    spans: [...mine].sort((a, b) => startOf(a) - startOf(b)).map((s) => s.name),
    events: events.filter((e) => e.traceparent?.split("-")[1] === traceId),
  };
}
