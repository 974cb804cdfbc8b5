import { eventCatalog, type EventDataMap, type EventType } from "@millwright/model";
import { err, ok, type Result } from "neverthrow";
import type { CanonicalEvent } from "./envelope.js";
import { attributeError, type EventError } from "./errors.js";
import { parseEvent } from "./parse-event.js";
import { eventAttributes } from "./serialize.js";

/**
 * Turns the data of one event type into the data of the next major version of the same type
 * (`…v1` → `…v2`). A pure function: no clock, no I/O, and the input is not changed.
 *
 * @typeParam TFrom - the older type
 * @typeParam TTo - the type one major version later
 */
export interface Upcaster<TFrom extends EventType = EventType, TTo extends EventType = EventType> {
  /** The older type, such as `dev.millwright.machinestate.changed.v1`. */
  readonly from: TFrom;
  /** The type one major version later, such as `dev.millwright.machinestate.changed.v2`. */
  readonly to: TTo;
  /** The data of `from` as the data of `to`; must not change its input. */
  // A method, so that an upcaster of two given types is an Upcaster of any types (method parameters are bivariant).
  upcast(data: EventDataMap[TFrom]): EventDataMap[TTo];
}

/** The type without its version, and the version: `dev.millwright.machinestate.changed.v2` → [`dev.millwright.machinestate.changed`, 2]. */
function splitVersion(type: string): readonly [family: string, version: number] | undefined {
  const match = /^(.+)\.v([1-9][0-9]*)$/.exec(type);
  return match === null ? undefined : [match[1] as string, Number(match[2])];
}

/**
 * Declares an upcaster, checking that it goes from a catalog type to the next major version of
 * the same type. Throws on a declaration that breaks this (a programmer error, found at start-up).
 *
 * @param upcaster - from, to and the pure function
 * @returns the same upcaster, frozen
 * @example
 * const v1ToV2 = defineUpcaster({
 *   from: "dev.millwright.machinestate.changed.v1",
 *   to: "dev.millwright.machinestate.changed.v2",
 *   upcast: (data) => ({ ...data, operationMode: data.operationMode ?? "none" }),
 * });
 */
export function defineUpcaster<TFrom extends EventType, TTo extends EventType>(upcaster: Upcaster<TFrom, TTo>): Upcaster<TFrom, TTo> {
  const from = splitVersion(upcaster.from);
  const to = splitVersion(upcaster.to);
  if (!(upcaster.from in eventCatalog) || !(upcaster.to in eventCatalog) || from === undefined || to === undefined) {
    throw new TypeError(`an upcaster goes between two catalog types (got ${JSON.stringify(upcaster.from)} → ${JSON.stringify(upcaster.to)})`);
  }
  if (from[0] !== to[0] || to[1] !== from[1] + 1) {
    throw new TypeError(`an upcaster goes from one major version of a type to the next (got ${upcaster.from} → ${upcaster.to})`);
  }
  return Object.freeze({ ...upcaster });
}

/** Upcasters registered by a consumer: reads any older version of a type as the version it was written for. */
export interface UpcasterRegistry {
  /** The registered upcasters, in registration order. */
  readonly upcasters: readonly Upcaster[];
  /**
   * Reads an event as `target`: the event itself when it already has that type, else the event
   * after each upcaster from its version up to the target's, checked with the catalog of the
   * target like any received event. `id`, `source`, `time`, `subject`, `sequence`, trace context
   * and extensions are kept (the fact is the same), `type` and `dataschema` become the target's.
   * Never throws, unless an upcaster itself throws (a bug in it).
   */
  readonly upcast: <TTarget extends EventType>(event: CanonicalEvent, target: TTarget) => Result<CanonicalEvent<TTarget>, EventError>;
}

/**
 * Creates the registry a consumer reads older event versions through. Throws when two upcasters
 * start at the same type (a programmer error).
 *
 * @param upcasters - upcasters from {@link defineUpcaster}
 * @returns the registry
 * @example
 * const registry = createUpcasterRegistry([machineStateChangedV1ToV2]);
 * const v2 = registry.upcast(event, "dev.millwright.machinestate.changed.v2");
 * if (v2.isOk()) console.log(v2.value.data.operationMode);
 */
export function createUpcasterRegistry(upcasters: readonly Upcaster[]): UpcasterRegistry {
  const byFrom = new Map<string, Upcaster>();
  for (const u of upcasters) {
    const checked = defineUpcaster(u);
    if (byFrom.has(checked.from)) throw new TypeError(`two upcasters start at ${checked.from}`);
    byFrom.set(checked.from, checked);
  }
  const list = Object.freeze([...byFrom.values()]);
  const upcast = <TTarget extends EventType>(event: CanonicalEvent, target: TTarget): Result<CanonicalEvent<TTarget>, EventError> => {
    if (event.type === target) return ok(event as CanonicalEvent<TTarget>);
    const have = splitVersion(event.type);
    const want = splitVersion(target);
    if (have === undefined || want === undefined || have[0] !== want[0]) {
      return err(attributeError("unknown_event_type", "/type", `is a version of ${target}, the type this consumer reads`, event.type));
    }
    if (have[1] > want[1]) {
      return err(attributeError("unknown_event_version", "/type", `is at most ${target}, the version this consumer was written for (a newer version cannot be read as an older one)`, event.type));
    }
    let current: CanonicalEvent = event;
    for (let version = have[1]; version < want[1]; version++) {
      const from = `${want[0]}.v${version}`;
      const step = byFrom.get(from);
      if (step === undefined) {
        return err(attributeError("unknown_event_version", "/type", `can be read as ${target} once an upcaster ${from} → ${want[0]}.v${version + 1} is registered`, event.type));
      }
      const next = applyStep(current, step);
      if (next.isErr()) return err(next.error);
      current = next.value;
    }
    return ok(current as CanonicalEvent<TTarget>);
  };
  return Object.freeze({ upcasters: list, upcast });
}

/** One upcaster applied to one event, and the result checked by the same validator as a received event. */
function applyStep(event: CanonicalEvent, step: Upcaster): Result<CanonicalEvent, EventError> {
  const data = step.upcast(event.data as never);
  const structured: Record<string, unknown> = Object.fromEntries(eventAttributes(event));
  structured["type"] = step.to;
  if (structured["dataschema"] !== undefined) structured["dataschema"] = eventCatalog[step.to].dataSchema;
  structured["data"] = data;
  return parseEvent(structured).mapErr((e) => ({
    ...e,
    rule: `${e.rule} (after the upcaster ${step.from} → ${step.to})`,
    message: `${e.message} (after the upcaster ${step.from} → ${step.to})`,
  }));
}

type MachineStateV1 = EventDataMap["dev.millwright.machinestate.changed.v1"];
type OperationMode = NonNullable<MachineStateV1["operationMode"]>;

/**
 * The operation mode a v1 machine state implies when it does not say one: out of service is
 * maintenance, executing is processing (OPC 40001-1), anything else is none (no mode known).
 */
function impliedOperationMode(availability: MachineStateV1["availability"]): OperationMode {
  if (availability === "out_of_service") return "maintenance";
  if (availability === "executing") return "processing";
  return "none";
}

/**
 * The upcaster of `dev.millwright.machinestate.changed.v1` to `…v2`, which always states the
 * operation mode: a v1 state without one gets the mode its availability implies (out of service:
 * maintenance, executing: processing, otherwise none); a v1 state with one keeps it.
 *
 * @example
 * const registry = createUpcasterRegistry([machineStateChangedV1ToV2]);
 */
export const machineStateChangedV1ToV2: Upcaster<"dev.millwright.machinestate.changed.v1", "dev.millwright.machinestate.changed.v2"> = defineUpcaster({
  from: "dev.millwright.machinestate.changed.v1",
  to: "dev.millwright.machinestate.changed.v2",
  upcast: (data) => (data.operationMode !== undefined ? data : { ...data, operationMode: impliedOperationMode(data.availability) }),
});

/**
 * The upcasters of every versioned type in this catalog, one per `…vN` → `…vN+1` step. A
 * consumer registers these (and its own); `millwright diff` checks that every step has one.
 *
 * @example
 * const registry = createUpcasterRegistry(catalogUpcasters);
 */
export const catalogUpcasters: readonly Upcaster[] = Object.freeze([machineStateChangedV1ToV2]);
