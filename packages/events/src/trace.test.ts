import { context, createTraceState, INVALID_SPAN_CONTEXT, ROOT_CONTEXT, trace, TraceFlags, type ContextManager, type SpanContext } from "@opentelemetry/api";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SOURCE, TIME, TYPE, sampleJson, workOrder } from "../test/fixtures.js";
import { amqp } from "./bindings/amqp.js";
import { http } from "./bindings/http.js";
import { kafka } from "./bindings/kafka.js";
import { mqtt3, mqtt5 } from "./bindings/mqtt.js";
import { nats } from "./bindings/nats.js";
import { createEvent } from "./create-event.js";
import type { CanonicalEvent } from "./envelope.js";
import { parseEvent } from "./parse-event.js";
import { serializeEvent } from "./serialize.js";
import { fromTraceHeaders, toTraceHeaders, traceContextOf, withTraceContext } from "./trace.js";

const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const SPAN_ID = "00f067aa0ba902b7";
const TRACEPARENT = `00-${TRACE_ID}-${SPAN_ID}-01`;
const spanContext: SpanContext = { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: TraceFlags.SAMPLED, traceState: createTraceState("congo=t61rcWkgMzE") };
const inSpan = trace.setSpanContext(ROOT_CONTEXT, spanContext);
const plain = (): CanonicalEvent => createEvent({ type: TYPE, source: SOURCE, data: workOrder() as never, time: TIME })._unsafeUnwrap();

describe("withTraceContext", () => {
  it("puts the span context of the given context on the event, in the canonical member order", () => {
    const event = withTraceContext(plain(), inSpan);
    expect(event.traceparent).toBe(TRACEPARENT);
    expect(event.tracestate).toBe("congo=t61rcWkgMzE");
    expect(Object.isFrozen(event)).toBe(true);
    expect(Object.keys(event).slice(-3)).toEqual(["traceparent", "tracestate", "data"]);
    // The one validator accepts it, and the JSON format carries it.
    const text = serializeEvent(event);
    expect(text).toContain(`"sequence":"00000020260225200512","traceparent":"${TRACEPARENT}","tracestate":"congo=t61rcWkgMzE","data":`);
    expect(parseEvent(text)._unsafeUnwrap()).toEqual(event);
  });

  it("replaces an earlier trace context, tracestate included", () => {
    const before = createEvent({ type: TYPE, source: SOURCE, data: workOrder() as never, time: TIME, traceparent: `00-${"1".repeat(32)}-${"2".repeat(16)}-00`, tracestate: "rojo=1", extensions: { shift: 2 } })._unsafeUnwrap();
    const after = withTraceContext(before, trace.setSpanContext(ROOT_CONTEXT, { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 0 }));
    expect(after.traceparent).toBe(`00-${TRACE_ID}-${SPAN_ID}-00`);
    expect(after.tracestate).toBeUndefined();
    expect(Object.keys(after).slice(-3)).toEqual(["traceparent", "extensions", "data"]);
  });

  it("returns the event itself when there is no valid span context (no span, no SDK)", () => {
    const event = plain();
    expect(withTraceContext(event)).toBe(event);
    expect(withTraceContext(event, ROOT_CONTEXT)).toBe(event);
    expect(withTraceContext(event, trace.setSpanContext(ROOT_CONTEXT, INVALID_SPAN_CONTEXT))).toBe(event);
    // Without a registered SDK the no-op tracer's spans are invalid too.
    trace.getTracer("test").startActiveSpan("no-sdk", (span) => {
      expect(withTraceContext(event)).toBe(event);
      span.end();
    });
  });

  it("reads the active context by default", () => {
    // A synchronous context manager is enough here; applications register an AsyncLocalStorage one.
    let active = ROOT_CONTEXT;
    const manager: ContextManager = {
      active: () => active,
      with: (ctx, fn, thisArg, ...args) => {
        const previous = active;
        active = ctx;
        try {
          return fn.call(thisArg, ...args);
        } finally {
          active = previous;
        }
      },
      bind: (_ctx, target) => target,
      enable: () => manager,
      disable: () => manager,
    };
    expect(context.setGlobalContextManager(manager)).toBe(true);
    try {
      const event = context.with(inSpan, () => withTraceContext(plain()));
      expect(event.traceparent).toBe(TRACEPARENT);
    } finally {
      context.disable();
    }
  });
});

describe("traceContextOf", () => {
  it("makes the event's traceparent the remote parent", () => {
    const ctx = traceContextOf(withTraceContext(plain(), inSpan));
    expect(trace.getSpanContext(ctx)).toEqual({ traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 1, isRemote: true, traceState: expect.anything() });
    expect(trace.getSpanContext(ctx)?.traceState?.get("congo")).toBe("t61rcWkgMzE");
    // A consumer's event made in that context continues the trace with the same ids (no SDK: no new span).
    expect(withTraceContext(plain(), ctx).traceparent).toBe(TRACEPARENT);
  });

  it("gives the base context for an event without trace context", () => {
    expect(traceContextOf(plain())).toBe(ROOT_CONTEXT);
    const base = ROOT_CONTEXT.setValue(Symbol.for("x"), 1);
    expect(traceContextOf(plain(), base)).toBe(base);
  });
});

describe("toTraceHeaders / fromTraceHeaders", () => {
  it("write and read W3C Trace Context", () => {
    expect(toTraceHeaders(spanContext)).toEqual({ traceparent: TRACEPARENT, tracestate: "congo=t61rcWkgMzE" });
    expect(toTraceHeaders({ ...spanContext, traceState: createTraceState("") })).toEqual({ traceparent: TRACEPARENT });
    expect(toTraceHeaders({ ...spanContext, traceId: TRACE_ID.toUpperCase() })?.traceparent).toBe(TRACEPARENT);
    expect(toTraceHeaders(INVALID_SPAN_CONTEXT)).toBeUndefined();
    expect(toTraceHeaders(undefined)).toBeUndefined();
    expect(toTraceHeaders({ ...spanContext, spanId: "xyz" })).toBeUndefined();
    const ctx = fromTraceHeaders({ traceparent: ` ${TRACEPARENT} `, tracestate: ["rojo=00f067aa0ba902b7", "congo=t61rcWkgMzE"] });
    expect(trace.getSpanContext(ctx)?.traceState?.serialize()).toBe("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE");
  });

  it("ignores an invalid traceparent and drops an invalid tracestate, as W3C Trace Context requires", () => {
    for (const traceparent of [undefined, 42, "", "00-abc", `00-${"0".repeat(32)}-${SPAN_ID}-01`, `ff-${TRACE_ID}-${SPAN_ID}-01`, [TRACEPARENT, TRACEPARENT]]) {
      expect(fromTraceHeaders({ traceparent, tracestate: "congo=1" })).toBe(ROOT_CONTEXT);
    }
    const ctx = fromTraceHeaders({ traceparent: TRACEPARENT, tracestate: "UPPER=1" });
    expect(trace.getSpanContext(ctx)).toEqual({ traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 1, isRemote: true });
  });

  it("reads the first fields of a later version (W3C Trace Context §3.2.4)", () => {
    const ctx = fromTraceHeaders({ traceparent: `01-${TRACE_ID}-${SPAN_ID}-03-whatever` });
    expect(trace.getSpanContext(ctx)).toMatchObject({ traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 3 });
  });

  it("round-trip any valid span context, and never throw", () => {
    const hex = (n: number) => fc.stringMatching(new RegExp(`^[0-9a-f]{${n}}$`)).filter((s) => !/^0+$/.test(s));
    fc.assert(
      fc.property(hex(32), hex(16), fc.integer({ min: 0, max: 255 }), (traceId, spanId, traceFlags) => {
        const headers = toTraceHeaders({ traceId, spanId, traceFlags });
        expect(trace.getSpanContext(fromTraceHeaders(headers ?? {}))).toEqual({ traceId, spanId, traceFlags, isRemote: true });
      }),
    );
    fc.assert(
      fc.property(fc.anything(), fc.anything(), (traceparent, tracestate) => {
        fromTraceHeaders({ traceparent, tracestate });
      }),
    );
  });
});

describe("the validator checks trace context on every path", () => {
  const rejected = (mutate: (e: Record<string, unknown>) => void) => {
    const json = sampleJson();
    mutate(json);
    return parseEvent(json)._unsafeUnwrapErr();
  };

  it("names path, value and rule", () => {
    expect(rejected((e) => (e["traceparent"] = `00-${"0".repeat(32)}-${SPAN_ID}-01`)).message).toMatchInlineSnapshot(
      `"/traceparent: is a W3C traceparent whose trace-id is not all zeros (got "00-00000000000000000000000000000000-00f067aa0ba902b7-01")"`,
    );
    expect(rejected((e) => (e["traceparent"] = `00-${TRACE_ID}-${"0".repeat(16)}-01`)).message).toMatchInlineSnapshot(
      `"/traceparent: is a W3C traceparent whose parent-id is not all zeros (got "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01")"`,
    );
    expect(rejected((e) => (e["traceparent"] = `ff-${TRACE_ID}-${SPAN_ID}-01`)).rule).toMatchInlineSnapshot(`"is a W3C traceparent of a version other than ff"`);
    expect(rejected((e) => (e["traceparent"] = `${TRACEPARENT}-x`)).rule).toMatchInlineSnapshot(`"is a version-00 W3C traceparent, with nothing after the flags"`);
    expect(rejected((e) => (e["traceparent"] = TRACEPARENT.toUpperCase())).rule).toMatchInlineSnapshot(
      `"is a W3C traceparent: version-traceid-parentid-flags, 2-32-16-2 lower-case hex digits joined by -"`,
    );
    expect(rejected((e) => Object.assign(e, { traceparent: TRACEPARENT, tracestate: "congo=1,rojo=2,congo=3" }))).toMatchInlineSnapshot(`
      {
        "code": "invalid_attribute_value",
        "message": "/tracestate: is a W3C tracestate with each key once ("congo" repeats) (got "congo=1,rojo=2,congo=3")",
        "path": "/tracestate",
        "rule": "is a W3C tracestate with each key once ("congo" repeats)",
        "value": "congo=1,rojo=2,congo=3",
      }
    `);
    expect(rejected((e) => Object.assign(e, { traceparent: TRACEPARENT, tracestate: "congo=1, Rojo=2" })).rule).toMatchInlineSnapshot(
      `"is a W3C tracestate of key=value list-members, keys of a-z 0-9 _ - * / (one @ in a multi-tenant key), values of printable ASCII but , and = (list-member 2 is "Rojo=2")"`,
    );
    const many = Array.from({ length: 33 }, (_, i) => `k${i}=v`).join(",");
    expect(rejected((e) => Object.assign(e, { traceparent: TRACEPARENT, tracestate: many })).rule).toBe("is a W3C tracestate of at most 32 list-members");
    expect(rejected((e) => (e["tracestate"] = "congo=1"))).toMatchObject({ code: "missing_attribute", path: "/traceparent" });
  });

  it("accepts empty and blank tracestate list-members (W3C Trace Context §3.3.1)", () => {
    for (const tracestate of ["", " ", "congo=1,,rojo=2", " congo=1 ,  rojo=2 ", "tenant@vendor=x"]) {
      const json = { ...sampleJson(), traceparent: TRACEPARENT, tracestate };
      expect(parseEvent(json).isOk(), tracestate).toBe(true);
    }
  });

  it("createEvent checks them too", () => {
    const result = createEvent({ type: TYPE, source: SOURCE, data: workOrder() as never, time: TIME, traceparent: `00-${TRACE_ID}-${SPAN_ID}-01-extra` });
    expect(result._unsafeUnwrapErr()).toMatchObject({ code: "invalid_attribute_value", path: "/traceparent", value: `00-${TRACE_ID}-${SPAN_ID}-01-extra` });
  });
});

describe("every binding carries traceparent and tracestate", () => {
  const event = withTraceContext(plain(), inSpan);

  it("in binary mode as attributes of their own", () => {
    const expected = [TRACEPARENT, "congo=t61rcWkgMzE"];
    // "=" and "-" need no percent-encoding in HTTP headers.
    const h = http.binary(event).headers;
    expect([h["ce-traceparent"], h["ce-tracestate"]]).toEqual(expected);
    const k = kafka.binary(event).headers;
    expect([k["ce_traceparent"], k["ce_tracestate"]]).toEqual(expected);
    const u = mqtt5.binary(event).properties.userProperties;
    expect([u?.["traceparent"], u?.["tracestate"]]).toEqual(expected);
    const a = amqp.binary(event).applicationProperties;
    expect([a["cloudEvents_traceparent"], a["cloudEvents_tracestate"]]).toEqual(expected);
    const n = nats.binary(event).headers;
    expect([n?.["ce-traceparent"], n?.["ce-tracestate"]]).toEqual(expected);
  });

  it.each([
    ["http", http],
    ["kafka", kafka],
    ["mqtt5", mqtt5],
    ["amqp", amqp],
    ["nats", nats],
  ] as const)("%s: back through toEvent in binary and structured mode", (_name, binding) => {
    for (const message of [binding.binary(event), binding.structured(event)]) {
      const back = binding.toEvent(message as never)._unsafeUnwrap() as CanonicalEvent;
      expect([back.traceparent, back.tracestate]).toEqual([TRACEPARENT, "congo=t61rcWkgMzE"]);
    }
  });

  it("mqtt3 (structured only)", () => {
    const back = mqtt3.toEvent(mqtt3.structured(event))._unsafeUnwrap();
    expect(back.traceparent).toBe(TRACEPARENT);
  });

  it("rejects an invalid ce-traceparent header with its path", () => {
    const { headers, body } = http.binary(event);
    expect(http.toEvent({ headers: { ...headers, "ce-traceparent": "00-abc" }, body })._unsafeUnwrapErr()).toMatchObject({ code: "invalid_attribute_value", path: "/headers/ce-traceparent", value: "00-abc" });
  });
});
