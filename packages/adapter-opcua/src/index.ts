// Public API of @millwright/adapter-opcua. Explicit named exports only: what is not listed here is internal.
export {
  CONFIG_DEFAULTS,
  SECURITY_POLICIES,
  parseAdapterConfig,
  type AdapterConfig,
  type Monitoring,
  type SecurityMode,
  type SecurityPolicy,
  type Signal,
  type UserIdentity,
} from "./config.js";
export type { AdapterError, AdapterErrorCode, AdapterIssue, ConfigError, ConfigErrorCode, ConfigIssue } from "./errors.js";
// The counter and state core lives in @millwright/adapter-kit, shared with the Sparkplug adapter; re-exported unchanged.
export {
  EMPTY_LINE_STATE,
  INT32_COUNTER,
  MACHINERY_ITEM_STATES,
  PACKML_STATES,
  UINT32_COUNTER,
  applyReadings,
  computeCounterDelta,
  createMemoryCounterStore,
  isCounterValue,
  microsToTimestamp,
  toMappedState,
  type AdapterEvent,
  type Availability,
  type CounterDelta,
  type CounterDeltaOptions,
  type CounterSqliteDatabase,
  type CounterSqliteStatement,
  type CounterStateStore,
  type CounterWidth,
  type CustomStateTarget,
  type LineState,
  type LineStep,
  type MappedState,
  type OrderChange,
  type PackmlStateName,
  type ProcessValue,
  type ResettingPeriod,
  type SignalReading,
  type SignalRole,
  type StateMapping,
  type StatusSeverity,
  type StoredCounter,
  type StoredLine,
  type StoredLineEntry,
} from "@millwright/adapter-kit";
export { createSqliteCounterStore } from "./state-store.js";
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
