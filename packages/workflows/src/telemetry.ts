// OpenTelemetry of the workflow runtime through @opentelemetry/api only: without a registered SDK
// the tracer and meter are the API's no-ops and recording costs next to nothing.
import { traceContextOf } from "@millwright/events";
import { context as otelContext, createNoopMeter, metrics, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, ValueType, type Attributes, type Meter, type Span, type Tracer } from "@opentelemetry/api";
import packageJson from "../package.json" with { type: "json" };
import type { WorkflowStore } from "./store.js";
import type { InstanceState, TraceCarrier } from "./types.js";

/** The names of the metrics the runtime records. */
export const WORKFLOW_METRICS = {
  /** Gauge: instances by `state` (and nothing else: one store query per collection). */
  instances: "millwright.workflows.instances",
  /** Histogram, seconds: the duration of each step and compensation attempt, by `workflow`, `step`, `kind`, `outcome`. */
  stepDuration: "millwright.workflows.step.duration",
  /** Counter: attempts that failed and will be retried, by `workflow`, `step`, `kind` (`step` or `compensation`). */
  retries: "millwright.workflows.retries",
  /** Counter: compensations that ended, by `workflow`, `step`, `outcome` (`completed` or `failed`). */
  compensations: "millwright.workflows.compensations",
  /** Counter: instances sent to the dead letters (a compensation failed for good), by `workflow`. */
  deadLetters: "millwright.workflows.dead_letters",
  /** Counter: deadlines that passed, by `workflow` and `action`. */
  deadlines: "millwright.workflows.deadlines",
} as const;

const STATES: readonly InstanceState[] = ["running", "waiting", "completed", "compensating", "compensated", "failed", "cancelled"];
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

/** The instruments of one runtime. */
export interface WorkflowInstruments {
  readonly tracer: Tracer;
  /**
   * Whether spans are recorded: a tracer was given, or an SDK is registered globally (checked on
   * each call, as the API's proxy tracer would). When false the runtime builds no span, name or
   * attributes for an attempt: nothing would record them.
   */
  tracing(): boolean;
  /**
   * Whether metrics are recorded: a meter was given, or an SDK's meter provider was registered
   * before the runtime was created (the API's meters do not follow a later registration). When
   * false the runtime builds no metric attributes.
   */
  readonly metering: boolean;
  stepDuration(seconds: number, attributes: Attributes): void;
  retry(attributes: Attributes): void;
  compensation(attributes: Attributes): void;
  deadLetter(attributes: Attributes): void;
  deadline(attributes: Attributes): void;
  /** Starts a span for one attempt, parented by the instance's starting trace context. */
  startAttempt(name: string, parent: TraceCarrier | undefined, attributes: Attributes): Span;
  /** Ends an attempt's span with its outcome. */
  endAttempt(span: Span, failure: { readonly code: string; readonly message: string } | undefined): void;
}

/**
 * Creates the runtime's instruments.
 *
 * @param store - the store the instances gauge counts
 * @param options - the tracer and meter (the global ones by default)
 * @returns the instruments
 * @example
 * const instruments = createInstruments(store, {});
 */
export function createInstruments(store: WorkflowStore, options: { readonly tracer?: Tracer | undefined; readonly meter?: Meter | undefined }): WorkflowInstruments {
  const tracer = options.tracer ?? trace.getTracer("@millwright/workflows", packageJson.version);
  const meter = options.meter ?? metrics.getMeter("@millwright/workflows", packageJson.version);
  // Without a tracer of its own, the runtime's is the API's proxy: it records once the global
  // provider (a ProxyTracerProvider) has a delegate, whenever that is registered.
  const provider = trace.getTracerProvider() as { getDelegateTracer?: (name: string, version?: string) => Tracer | undefined };
  const explicitTracer = options.tracer !== undefined || typeof provider.getDelegateTracer !== "function";
  const tracing = explicitTracer ? () => true : () => provider.getDelegateTracer!("@millwright/workflows", packageJson.version) !== undefined;
  const duration = meter.createHistogram(WORKFLOW_METRICS.stepDuration, {
    description: "Duration of each workflow step and compensation attempt",
    unit: "s",
    valueType: ValueType.DOUBLE,
    advice: { explicitBucketBoundaries: DURATION_BUCKETS },
  });
  const retries = meter.createCounter(WORKFLOW_METRICS.retries, { description: "Workflow step attempts that failed and will be retried", unit: "{retry}", valueType: ValueType.INT });
  const compensations = meter.createCounter(WORKFLOW_METRICS.compensations, { description: "Workflow compensations that ended", unit: "{compensation}", valueType: ValueType.INT });
  const deadLetters = meter.createCounter(WORKFLOW_METRICS.deadLetters, { description: "Workflow instances sent to the dead letters", unit: "{instance}", valueType: ValueType.INT });
  const deadlines = meter.createCounter(WORKFLOW_METRICS.deadlines, { description: "Workflow deadlines that passed", unit: "{deadline}", valueType: ValueType.INT });
  const instances = meter.createObservableGauge(WORKFLOW_METRICS.instances, { description: "Workflow instances by state", unit: "{instance}", valueType: ValueType.INT });
  instances.addCallback(async (result) => {
    const counts = await store.countByState().catch(() => undefined);
    if (counts === undefined) return;
    for (const state of STATES) result.observe(counts[state] ?? 0, { state });
  });
  return {
    tracer,
    tracing,
    metering: meter !== createNoopMeter(),
    stepDuration: (seconds, attributes) => duration.record(seconds, attributes),
    retry: (attributes) => retries.add(1, attributes),
    compensation: (attributes) => compensations.add(1, attributes),
    deadLetter: (attributes) => deadLetters.add(1, attributes),
    deadline: (attributes) => deadlines.add(1, attributes),
    startAttempt(name, parent, attributes) {
      const parentContext = parent === undefined ? otelContext.active() : traceContextOf(parent, ROOT_CONTEXT);
      return tracer.startSpan(name, { kind: SpanKind.INTERNAL, attributes }, parentContext);
    },
    endAttempt(span, failure) {
      if (failure === undefined) span.setStatus({ code: SpanStatusCode.OK });
      else {
        span.setAttribute("millwright.workflow.error_code", failure.code);
        span.setStatus({ code: SpanStatusCode.ERROR, message: failure.message });
      }
      span.end();
    },
  };
}
