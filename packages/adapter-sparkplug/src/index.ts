// Public API of @millwright/adapter-sparkplug. Explicit named exports only: what is not listed here is internal.
export { parseSparkplugHostConfig, type SparkplugHostConfig, type SparkplugLine, type SparkplugSignal } from "./config.js";
export type { ConfigError, ConfigErrorCode, ConfigIssue, HostIssue, SessionIssueCode, SparkplugError, SparkplugErrorCode } from "./errors.js";
export {
  SPARKPLUG_DATA_TYPES,
  decodeSparkplugPayload,
  encodeSparkplugPayload,
  type DataSetValue,
  type MetricValue,
  type OutgoingMetric,
  type OutgoingPayload,
  type PayloadError,
  type PropertySetValue,
  type ScalarValue,
  type SparkplugDataType,
  type SparkplugMetric,
  type SparkplugPayload,
  type TemplateValue,
} from "./payload.js";
export type { Death, ResolvedMetric } from "./session.js";
export { SPARKPLUG_NAMESPACE, parseSparkplugTopic, type SparkplugMessageType, type SparkplugTopic } from "./topic.js";
export { startSparkplugHost, type SparkplugHost, type SparkplugHostOptions } from "./host.js";
export { startSparkplugEdgeNode, type SparkplugEdgeNode, type SparkplugEdgeNodeOptions } from "./edge-node.js";
export { createMemoryCounterStore, createSqliteCounterStore, type CounterStateStore, type StoredLine } from "@millwright/adapter-kit";
