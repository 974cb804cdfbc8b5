// Public API of @millwright/adapter-opcua. Explicit named exports only: what is not listed here is internal.
export {
  CONFIG_DEFAULTS,
  INT32_COUNTER,
  SECURITY_POLICIES,
  UINT32_COUNTER,
  parseAdapterConfig,
  type AdapterConfig,
  type CounterWidth,
  type CustomStateTarget,
  type Monitoring,
  type SecurityMode,
  type SecurityPolicy,
  type Signal,
  type SignalRole,
  type StateMapping,
  type UserIdentity,
} from "./config.js";
export type { AdapterError, AdapterErrorCode, AdapterIssue, ConfigError, ConfigErrorCode, ConfigIssue } from "./errors.js";
export { computeCounterDelta, isCounterValue, type CounterDelta, type CounterDeltaOptions } from "./counter.js";
export { MACHINERY_ITEM_STATES, PACKML_STATES, toMappedState, type Availability, type MappedState, type PackmlStateName } from "./state-mapping.js";
export {
  EMPTY_LINE_STATE,
  applyReadings,
  microsToTimestamp,
  type AdapterEvent,
  type LineState,
  type LineStep,
  type OrderChange,
  type ProcessValue,
  type ResettingPeriod,
  type SignalReading,
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
} from "./state-store.js";
export { startOpcuaAdapter, type AdapterOptions, type OpcuaAdapter } from "./runtime.js";
export { toSignalReading, type ConnectionStatus } from "./connection.js";
export {
  discoverNodes,
  discoverSignalConfig,
  draftSignalConfig,
  type DiscoverOptions,
  type DiscoveredNode,
  type DraftConfig,
  type DraftSignal,
} from "./discovery.js";
