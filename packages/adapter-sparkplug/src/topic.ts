/** The Sparkplug B message types of the `spBv1.0` namespace. */
export type SparkplugMessageType = "NBIRTH" | "NDEATH" | "DBIRTH" | "DDEATH" | "NDATA" | "DDATA" | "NCMD" | "DCMD";

/** A parsed Sparkplug B topic: `spBv1.0/<group>/<type>/<edge node>[/<device>]` or `spBv1.0/STATE/<host id>`. */
export type SparkplugTopic =
  | { readonly kind: "message"; readonly groupId: string; readonly type: SparkplugMessageType; readonly edgeNodeId: string; readonly deviceId?: string }
  | { readonly kind: "state"; readonly hostId: string };

/** The topic namespace of Sparkplug B. */
export const SPARKPLUG_NAMESPACE = "spBv1.0";

const TYPES = new Set<string>(["NBIRTH", "NDEATH", "DBIRTH", "DDEATH", "NDATA", "DDATA", "NCMD", "DCMD"]);
const DEVICE_TYPES = new Set<string>(["DBIRTH", "DDEATH", "DDATA", "DCMD"]);

/**
 * Parses a Sparkplug B topic; device messages have a device id, node messages none.
 *
 * @param topic - the MQTT topic
 * @returns the parsed topic, or undefined when it is not a Sparkplug B topic
 * @example
 * ```ts
 * parseSparkplugTopic("spBv1.0/plant1/DDATA/line1/filler"); // { kind: "message", groupId: "plant1", type: "DDATA", edgeNodeId: "line1", deviceId: "filler" }
 * ```
 */
export function parseSparkplugTopic(topic: string): SparkplugTopic | undefined {
  const parts = topic.split("/");
  if (parts[0] !== SPARKPLUG_NAMESPACE) return undefined;
  if (parts[1] === "STATE" && parts.length === 3 && parts[2] !== "") return { kind: "state", hostId: parts[2] ?? "" };
  const [, groupId, type, edgeNodeId, deviceId] = parts;
  if (groupId === undefined || type === undefined || edgeNodeId === undefined || !TYPES.has(type) || groupId === "" || edgeNodeId === "") return undefined;
  const isDevice = DEVICE_TYPES.has(type);
  if (isDevice !== (parts.length === 5) || parts.length > 5 || deviceId === "") return undefined;
  return deviceId === undefined ? { kind: "message", groupId, type: type as SparkplugMessageType, edgeNodeId } : { kind: "message", groupId, type: type as SparkplugMessageType, edgeNodeId, deviceId };
}

/** A Sparkplug id (group, edge node, device, host): UTF-8 without the MQTT separators and wildcards `/`, `+`, `#`. */
export const SPARKPLUG_ID = /^[^/+#\u0000]{1,128}$/;
