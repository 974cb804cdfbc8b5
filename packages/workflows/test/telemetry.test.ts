import { createRetryPolicy, permanent, retryable } from "@millwright/idempotency";
import { trace } from "@opentelemetry/api";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { err, ok } from "neverthrow";
import { describe, expect, it } from "vitest";
import { defineWorkflow } from "../src/define.js";
import { createWorkflowRuntime } from "../src/runtime.js";
import { createMemoryWorkflowStore } from "../src/stores/memory.js";
import { WORKFLOW_METRICS } from "../src/telemetry.js";
import { captureLogger, manualClock, metricsSdk, sumOf } from "./fixtures.js";

const TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

describe("telemetry", () => {
  it("makes a span per step attempt in the starting event's trace, and records latency, retries, compensations, dead letters and states", async () => {
    const exporter = new InMemorySpanExporter();
    const tracer = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }).getTracer("test");
    const sdk = metricsSdk();
    let calls = 0;
    const wf = defineWorkflow({
      name: "observed",
      version: 1,
      run: async (wf) => {
        await wf.step("flaky", async () => (++calls === 1 ? err(retryable("503")) : ok(1)), {
          retry: createRetryPolicy({ maxAttempts: 2, baseDelayMs: 1 }),
          compensate: async () => err(permanent("cannot undo")),
        });
        await wf.step("refused", async () => err(permanent("no")), { retry: createRetryPolicy({ maxAttempts: 1 }) });
        return null;
      },
    });
    const runtime = createWorkflowRuntime({ store: createMemoryWorkflowStore(), workflows: [wf], clock: manualClock(), logger: captureLogger(), tracer, meter: sdk.provider.getMeter("test") });
    const ref = (await runtime.start(wf, "k", null, { trace: { traceparent: TRACEPARENT } }))._unsafeUnwrap();
    await runtime.runDue();
    expect((await runtime.get(ref.id))._unsafeUnwrap().instance.state).toBe("failed");

    const spans = exporter.getFinishedSpans();
    expect(spans.map((s) => [s.name, s.attributes["millwright.workflow.attempt"], s.status.code])).toEqual([
      ["workflow.step observed/flaky", 1, 2],
      ["workflow.step observed/flaky", 2, 1],
      ["workflow.step observed/refused", 1, 2],
      ["workflow.compensation observed/flaky", 1, 2],
    ]);
    for (const span of spans) {
      expect(span.spanContext().traceId).toBe("4bf92f3577b34da6a3ce929d0e0e4736");
      expect(span.parentSpanContext?.spanId).toBe("00f067aa0ba902b7");
    }
    expect(spans[0]!.attributes["millwright.workflow.idempotency_key"]).toBe(spans[1]!.attributes["millwright.workflow.idempotency_key"]);

    const m = await sdk.collect();
    expect(sumOf(m.get(WORKFLOW_METRICS.stepDuration), { step: "flaky", kind: "step" })).toBe(2);
    expect(sumOf(m.get(WORKFLOW_METRICS.retries), { step: "flaky" })).toBe(1);
    expect(sumOf(m.get(WORKFLOW_METRICS.compensations), { step: "flaky", outcome: "failed" })).toBe(1);
    expect(sumOf(m.get(WORKFLOW_METRICS.deadLetters), { workflow: "observed" })).toBe(1);
    expect(sumOf(m.get(WORKFLOW_METRICS.instances), { state: "failed" })).toBe(1);
    expect(sumOf(m.get(WORKFLOW_METRICS.instances), { state: "running" })).toBe(0);
    await sdk.provider.shutdown();
  });

  it("without a tracer of its own, records spans once a global tracer provider is registered, also after the runtime was made", async () => {
    const wf = defineWorkflow({
      name: "global",
      version: 1,
      run: async (wf) => {
        await wf.step("one", () => 1);
        return null;
      },
    });
    const runtime = createWorkflowRuntime({ store: createMemoryWorkflowStore(), workflows: [wf], clock: manualClock(), logger: captureLogger() });
    (await runtime.start(wf, "before", null))._unsafeUnwrap();
    await runtime.runDue();
    const exporter = new InMemorySpanExporter();
    expect(trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }))).toBe(true);
    try {
      (await runtime.start(wf, "after", null))._unsafeUnwrap();
      await runtime.runDue();
      expect(exporter.getFinishedSpans().map((s) => [s.name, s.attributes["millwright.workflow.step"]])).toEqual([["workflow.step global/one", "one"]]);
    } finally {
      trace.disable();
    }
  });
});
