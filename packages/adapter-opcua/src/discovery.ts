import { errAsync, ResultAsync } from "neverthrow";
import type { ClientSession, ReferenceDescription } from "node-opcua";
import type { SignalRole } from "@millwright/adapter-kit";
import type { AdapterError } from "./errors.js";
import { loadNodeOpcua, type NodeOpcuaModule } from "./node-opcua.js";

/** A node found while browsing: its id, browse path, and for variables the data type name. */
export interface DiscoveredNode {
  readonly nodeId: string;
  /** Browse names from the start node, e.g. `["Line1", "Admin", "ProdDefectiveCount"]`. */
  readonly path: readonly string[];
  readonly nodeClass: "Object" | "Variable";
  /** Browse name of the type definition, e.g. `PackMLBaseObjectType`, `BaseDataVariableType`. */
  readonly typeDefinition: string;
  /** Built-in data type of a variable (`Int32`, `UInt32`, `String` …); absent for objects. */
  readonly dataType?: string;
  /** The node it was browsed from; without it, the node at the parent browse path is taken. */
  readonly parentNodeId?: string;
}

/** A drafted signal with the reason it was chosen. */
export interface DraftSignal {
  readonly role: SignalRole;
  readonly nodeId: string;
  readonly mapping?: { readonly kind: "packml" | "machinery" };
  readonly width?: "int32" | "uint32";
  readonly name?: string;
  /** Why this node got this role, for the reviewer. */
  readonly because: string;
}

/** A draft configuration to review, complete and pass to `parseAdapterConfig`. */
export interface DraftConfig {
  readonly countObjectNodeId?: string;
  readonly countObjectKind?: string;
  readonly signals: readonly DraftSignal[];
  /** PackML or Machinery objects found, by node id. */
  readonly machines: readonly { readonly nodeId: string; readonly kind: "packml" | "machinery"; readonly path: string }[];
}

const COUNTER_TYPES = new Set(["Int32", "UInt32", "Int64", "UInt64", "Int16", "UInt16"]);
const COUNTERS: readonly [RegExp, SignalRole][] = [
  [/^(Prod)?GoodCount$|^GoodParts?$|^GoodQuantity$/i, "good_count"],
  [/^(Prod)?DefectiveCount$|^(Bad|Reject|Scrap)(Parts?|Count)$/i, "defective_count"],
  [/^(Prod)?ProcessedCount$|^ProducedQuantity$|^TotalCount$/i, "processed_count"],
];

/**
 * Drafts a signal configuration from browsed nodes: PackML objects (OPC 30050) with their state
 * (a `StateCurrent` number, or the `CurrentState` of a PackML state machine, recognised by the
 * state machine's type definition) and counters, Machinery item states (OPC 40001-1),
 * order-number variables. The draft is a starting point for a human: review every role before
 * using it.
 *
 * @param nodes - nodes found by {@link discoverNodes} (or any browse)
 * @returns the drafted signals, the count object and the machines found
 * @example
 * ```ts
 * const draft = draftSignalConfig([
 *   { nodeId: "ns=1;s=Line1.Status.StateCurrent", path: ["Line1", "Status", "StateCurrent"], nodeClass: "Variable", typeDefinition: "BaseDataVariableType", dataType: "Int32" },
 * ]);
 * draft.signals[0]?.role; // "machine_state"
 * ```
 */
export function draftSignalConfig(nodes: readonly DiscoveredNode[]): DraftConfig {
  const byId = new Map(nodes.map((n) => [n.nodeId, n]));
  const byPath = new Map<string, DiscoveredNode>();
  for (const n of nodes) if (!byPath.has(n.path.join("/"))) byPath.set(n.path.join("/"), n);
  const parentOf = (n: DiscoveredNode | undefined): DiscoveredNode | undefined =>
    n === undefined ? undefined : n.parentNodeId !== undefined ? byId.get(n.parentNodeId) : byPath.get(n.path.slice(0, -1).join("/"));
  const states: { readonly rank: number; readonly signal: DraftSignal }[] = [];
  const signals: DraftSignal[] = [];
  const machines: { nodeId: string; kind: "packml" | "machinery"; path: string }[] = [];
  let countObjectNodeId: string | undefined;
  let countObjectKind: string | undefined;
  const taken = new Set<SignalRole>();
  const add = (signal: DraftSignal): void => {
    if (taken.has(signal.role) && signal.role !== "process_value") return;
    taken.add(signal.role);
    signals.push(signal);
  };
  for (const node of nodes) {
    const name = node.path[node.path.length - 1] ?? "";
    const parent = node.path[node.path.length - 2] ?? "";
    const where = node.path.join("/");
    if (node.nodeClass === "Object") {
      if (/^PackML(Base)?ObjectType$/.test(node.typeDefinition)) machines.push({ nodeId: node.nodeId, kind: "packml", path: where });
      else if (/MachineryItemState_StateMachineType$/.test(node.typeDefinition)) machines.push({ nodeId: node.nodeId, kind: "machinery", path: where });
      if (node.typeDefinition === "PackMLAdminObjectType" || (countObjectNodeId === undefined && /Admin$/.test(name))) {
        countObjectNodeId = node.nodeId;
        countObjectKind = node.typeDefinition === "PackMLAdminObjectType" ? node.typeDefinition : "PackMLAdminObjectType";
      }
      continue;
    }
    const integer = node.dataType !== undefined && COUNTER_TYPES.has(node.dataType);
    const state = stateCandidate(node, integer, parentOf);
    if (state !== undefined) {
      states.push(state);
      continue;
    }
    const counter = COUNTERS.find(([pattern]) => pattern.test(name) || (name === "Count" && pattern.test(parent)));
    if (integer && counter !== undefined) {
      add({ role: counter[1], nodeId: node.nodeId, width: node.dataType === "UInt32" ? "uint32" : "int32", because: `cumulative counter ${where} (${node.dataType ?? "?"})` });
      continue;
    }
    if (/^(OrderNumber|OrderNumbers|JobOrderID|OrderId)$/i.test(name) && (node.dataType === "String" || integer)) {
      add({ role: "order_number", nodeId: node.nodeId, because: `order number at ${where}` });
      continue;
    }
    if (/^(CurMachSpeed|MachSpeed)$/.test(name)) add({ role: "process_value", nodeId: node.nodeId, name, because: `PackML status variable ${where}` });
  }
  // The best state candidate, first: the order of the browse decides only between equals.
  const best = states.reduce<(typeof states)[number] | undefined>((a, b) => (a === undefined || b.rank < a.rank ? b : a), undefined);
  if (best !== undefined) signals.unshift(best.signal);
  if (taken.has("good_count") && taken.has("processed_count")) {
    const index = signals.findIndex((s) => s.role === "processed_count");
    if (index >= 0) signals.splice(index, 1);
  }
  return {
    ...(countObjectNodeId === undefined ? {} : { countObjectNodeId }),
    ...(countObjectKind === undefined ? {} : { countObjectKind }),
    signals,
    machines,
  };
}

const PACKML_STATE_MACHINE = /^PackML(Base|Machine|Execute)StateMachineType$/;
const MACHINERY_STATE_MACHINE = /^MachineryItemState_StateMachineType$/;

/**
 * Whether a node holds a machine state, and how good a candidate it is (lower is better): a PackML
 * `StateCurrent` number; the `CurrentState` of a PackML state machine (OPC 30050: the base state
 * machine before the nested MachineState and ExecuteState ones), recognised by the state machine's
 * type definition, its `Number` property before its LocalizedText; a Machinery item state's
 * `CurrentState/Number` (OPC 40001-1); last, the same shapes recognised by browse names only.
 */
function stateCandidate(node: DiscoveredNode, integer: boolean, parentOf: (n: DiscoveredNode | undefined) => DiscoveredNode | undefined): { readonly rank: number; readonly signal: DraftSignal } | undefined {
  const name = node.path[node.path.length - 1] ?? "";
  const parent = node.path[node.path.length - 2] ?? "";
  const where = node.path.join("/");
  if (node.nodeClass !== "Variable") return undefined;
  if (integer && name === "StateCurrent") return { rank: 0, signal: { role: "machine_state", nodeId: node.nodeId, mapping: { kind: "packml" }, because: `PackML state number at ${where}` } };
  const currentState = name === "Number" && integer ? parentOf(node) : name === "CurrentState" ? node : undefined;
  const machine = currentState?.path[currentState.path.length - 1] === "CurrentState" ? parentOf(currentState) : undefined;
  const machineType = machine?.typeDefinition ?? "";
  const number = currentState !== node;
  if (currentState !== undefined && PACKML_STATE_MACHINE.test(machineType)) {
    const depth = machineType === "PackMLBaseStateMachineType" ? 0 : machineType === "PackMLMachineStateMachineType" ? 1 : 2;
    const what = number ? "state number" : "state name";
    return { rank: 1 + depth * 2 + (number ? 0 : 1), signal: { role: "machine_state", nodeId: node.nodeId, mapping: { kind: "packml" }, because: `PackML ${what} of the ${machineType} at ${where}` } };
  }
  if (number && currentState !== undefined && MACHINERY_STATE_MACHINE.test(machineType)) {
    return { rank: 7, signal: { role: "machine_state", nodeId: node.nodeId, mapping: { kind: "machinery" }, because: `Machinery item state number of the ${machineType} at ${where}` } };
  }
  if (integer && name === "Number" && parent === "CurrentState" && node.path.some((p) => /BaseStateMachine/.test(p))) {
    return { rank: 8, signal: { role: "machine_state", nodeId: node.nodeId, mapping: { kind: "packml" }, because: `PackML state number at ${where} (by browse name)` } };
  }
  if (integer && name === "Number" && parent === "CurrentState" && node.path.some((p) => /MachineryItemState/.test(p))) {
    return { rank: 9, signal: { role: "machine_state", nodeId: node.nodeId, mapping: { kind: "machinery" }, because: `Machinery item state number at ${where} (by browse name)` } };
  }
  return undefined;
}

/** How far {@link discoverNodes} browses. */
export interface DiscoverOptions {
  /** Where to start; default the Objects folder `i=85`. */
  readonly startNodeId?: string;
  /** Maximum depth; default 6. */
  readonly maxDepth?: number;
  /** Stop after this many nodes; default 5000. */
  readonly maxNodes?: number;
}

/** One browse of one session: node-opcua, the session, and the names of type and data type nodes found so far. */
interface Browse {
  readonly opcua: NodeOpcuaModule;
  readonly session: ClientSession;
  // Per session: namespace indexes differ between servers.
  readonly typeNames: Map<string, string>;
}

async function browseAll({ opcua, session }: Browse, nodeId: string): Promise<ReferenceDescription[]> {
  const { BrowseDirection, NodeClass } = opcua;
  const result = await session.browse({ nodeId, browseDirection: BrowseDirection.Forward, referenceTypeId: "HierarchicalReferences", includeSubtypes: true, nodeClassMask: NodeClass.Object | NodeClass.Variable, resultMask: 63 });
  const references = [...(result.references ?? [])];
  let continuationPoint = result.continuationPoint;
  while (continuationPoint !== null && continuationPoint !== undefined && continuationPoint.length > 0) {
    const next = await session.browseNext(continuationPoint, false);
    references.push(...(next.references ?? []));
    continuationPoint = next.continuationPoint;
  }
  return references;
}

/**
 * Browses an open session breadth-first from a start node and returns the objects and variables
 * with their type definitions and data types.
 *
 * @param session - an open node-opcua session
 * @param options - start node, depth and size limits
 * @returns the nodes found, or the browse error
 * @example
 * ```ts
 * const nodes = await discoverNodes(session, { maxDepth: 4 });
 * const draft = draftSignalConfig(nodes._unsafeUnwrap());
 * ```
 */
export function discoverNodes(session: ClientSession, options: DiscoverOptions = {}): ResultAsync<DiscoveredNode[], AdapterError> {
  const maxDepth = options.maxDepth ?? 6;
  const maxNodes = options.maxNodes ?? 5000;
  const run = async (): Promise<DiscoveredNode[]> => {
    const opcua = await loadNodeOpcua();
    const browse: Browse = { opcua, session, typeNames: new Map() };
    const found: DiscoveredNode[] = [];
    const seen = new Set<string>();
    let frontier: { nodeId: string; path: string[] }[] = [{ nodeId: opcua.resolveNodeId(options.startNodeId ?? "i=85").toString(), path: [] }];
    for (let depth = 0; depth < maxDepth && frontier.length > 0 && found.length < maxNodes; depth++) {
      const next: { nodeId: string; path: string[] }[] = [];
      for (const parent of frontier) {
        for (const ref of await browseAll(browse, parent.nodeId)) {
          const nodeId = ref.nodeId.toString();
          if (seen.has(nodeId) || found.length >= maxNodes) continue;
          seen.add(nodeId);
          const path = [...parent.path, ref.browseName.name ?? ""];
          const typeName = await typeDefinitionName(browse, ref);
          if (ref.nodeClass === opcua.NodeClass.Object) found.push({ nodeId, path, nodeClass: "Object", typeDefinition: typeName, parentNodeId: parent.nodeId });
          else {
            const dataType = await dataTypeName(browse, nodeId);
            found.push({ nodeId, path, nodeClass: "Variable", typeDefinition: typeName, ...(dataType === undefined ? {} : { dataType }), parentNodeId: parent.nodeId });
          }
          next.push({ nodeId, path });
        }
      }
      frontier = next;
    }
    return found;
  };
  return ResultAsync.fromPromise(run(), (cause) => ({ code: "session_failed", message: `browsing failed: ${cause instanceof Error ? cause.message : String(cause)}`, cause }));
}

async function typeDefinitionName({ opcua, session, typeNames }: Browse, ref: ReferenceDescription): Promise<string> {
  const id = ref.typeDefinition.toString();
  const cached = typeNames.get(id);
  if (cached !== undefined) return cached;
  const dv = await session.read({ nodeId: ref.typeDefinition, attributeId: opcua.AttributeIds.BrowseName });
  const name = (dv.value.value as { name?: string } | null)?.name ?? id;
  typeNames.set(id, name);
  return name;
}

async function dataTypeName({ opcua, session, typeNames }: Browse, nodeId: string): Promise<string | undefined> {
  const { AttributeIds } = opcua;
  const dv = await session.read({ nodeId, attributeId: AttributeIds.DataType });
  const typeId = dv.value.value as { toString(): string } | null;
  if (typeId === null) return undefined;
  const key = typeId.toString();
  const cached = typeNames.get(key);
  if (cached !== undefined) return cached;
  const name = await session.read({ nodeId: key, attributeId: AttributeIds.BrowseName });
  const text = (name.value.value as { name?: string } | null)?.name;
  if (text !== undefined) typeNames.set(key, text);
  return text;
}

/**
 * Connects to a server without security, browses it and drafts a signal configuration.
 *
 * @param endpointUrl - the server's opc.tcp URL
 * @param options - start node, depth and size limits
 * @returns the draft, or the connection or browse error
 * @example
 * ```ts
 * const draft = await discoverSignalConfig("opc.tcp://127.0.0.1:4840");
 * console.log(JSON.stringify(draft._unsafeUnwrap().signals, null, 2));
 * ```
 */
export function discoverSignalConfig(endpointUrl: string, options: DiscoverOptions = {}): ResultAsync<DraftConfig, AdapterError> {
  return ResultAsync.fromPromise(loadNodeOpcua(), (cause): AdapterError => ({ code: "connect_failed", message: `cannot load node-opcua: ${cause instanceof Error ? cause.message : String(cause)}`, cause })).andThen((opcua) => {
    const client = opcua.OPCUAClient.create({ endpointMustExist: false, connectionStrategy: { maxRetry: 0, initialDelay: 100, maxDelay: 200 } });
    return ResultAsync.fromPromise(client.connect(endpointUrl), (cause): AdapterError => ({ code: "connect_failed", message: `cannot connect to ${endpointUrl}: ${cause instanceof Error ? cause.message : String(cause)}`, cause }))
      .andThen(() => ResultAsync.fromPromise(client.createSession(), (cause): AdapterError => ({ code: "session_failed", message: cause instanceof Error ? cause.message : String(cause), cause })))
      .andThen((session) =>
        discoverNodes(session, options)
          .map(draftSignalConfig)
          .andThen((draft) => ResultAsync.fromSafePromise(session.close().then(() => draft, () => draft))),
      )
      .andThen((draft) => ResultAsync.fromSafePromise(client.disconnect().then(() => draft, () => draft)))
      .orElse((error) => ResultAsync.fromSafePromise(client.disconnect().catch(() => undefined)).andThen(() => errAsync(error)));
  });
}
