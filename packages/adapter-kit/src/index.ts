// Public API of @millwright/adapter-kit. Explicit named exports only: what is not listed here is internal.
export { boundedText, issue, preview, type Issue } from "./issue.js";
export { isPlainData, ReaderFailure, runMapper, type RunMapperOptions } from "./mapper.js";
export { FieldReader, type FieldIssueCode, type FieldRules } from "./field-reader.js";
export { parseDecimal } from "./decimal.js";
export { composeTimestamp, formatTimestamp, isTimeZone, localToUtc } from "./time-zone.js";
export { readBody, type BodyRead } from "./http-body.js";
export { computeCounterDelta, INT32_COUNTER, isCounterValue, UINT32_COUNTER, type CounterDelta, type CounterDeltaOptions, type CounterWidth } from "./counter.js";
export {
  MACHINERY_ITEM_STATES,
  PACKML_STATES,
  toMappedState,
  type Availability,
  type CustomStateTarget,
  type MappedState,
  type PackmlStateName,
  type StateMapping,
} from "./state-mapping.js";
export {
  applyReadings,
  EMPTY_LINE_STATE,
  mergeCounterReadings,
  microsToTimestamp,
  type AdapterEvent,
  type LineConfig,
  type LineIssue,
  type LineSignal,
  type LineState,
  type LineStep,
  type OrderChange,
  type ProcessValue,
  type ResettingPeriod,
  type SignalReading,
  type SignalRole,
  type StatusSeverity,
  type StoredCounter,
} from "./line-state.js";
export {
  createMemoryCounterStore,
  createSqliteCounterStore,
  type CounterSqliteDatabase,
  type CounterSqliteStatement,
  type CounterStateStore,
  type StoredLine,
  type StoredLineEntry,
} from "./line-store.js";
