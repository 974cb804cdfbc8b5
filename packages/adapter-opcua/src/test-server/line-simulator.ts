// A packaging line simulated on a real node-opcua server: a PackML object instantiated from the
// PackML companion nodeset (OPC 30050) that node-opcua-nodesets ships, with the state number,
// good and defective counters (Int32, wrapping like a PLC) and an order-number variable the MES
// writes. The line keeps producing while its server is down, so tests can check catch-up.
import net from "node:net";
import { DataType, LocalizedText, OPCUAServer, StatusCodes, Variant, type UAObject, type UAVariable, type StatusCode } from "node-opcua";
import { nodesets } from "node-opcua-nodesets";
import { PACKML_STATES } from "@millwright/adapter-kit";

export const NODES = {
  state: "ns=1;s=Line1.Status.StateCurrent",
  good: "ns=1;s=Line1.Admin.ProdGoodCount",
  defective: "ns=1;s=Line1.Admin.ProdDefectiveCount",
  order: "ns=1;s=Line1.OrderNumber",
  admin: "ns=1;s=Line1.Admin",
  speed: "ns=1;s=Line1.Status.CurMachSpeed",
} as const;

const wrapInt32 = (n: number): number => n | 0;


export interface LineValues {
  good: number;
  defective: number;
  state: number;
  order: string;
  speed: number;
}

/** How the simulated server models the line. */
export interface SimulatedLineOptions {
  /**
   * MinimumSamplingInterval of every variable, ms (default 0: changes are reported as they happen).
   * A server revises a requested sampling interval up to it.
   */
  readonly minimumSamplingInterval?: number;
  /**
   * Where the PackML state is: `StateCurrent` (default), an Int32 variable `Line1.Status.StateCurrent`
   * (`NODES.state`); or `CurrentState`, the `CurrentState` of the PackML object's `BaseStateMachine`
   * (PackMLBaseStateMachineType, OPC 30050), whose LocalizedText value is the state's name and whose
   * `Number` property the state number, as a server that models the state machine reports it.
   */
  readonly stateVariable?: "StateCurrent" | "CurrentState";
}

export class SimulatedLine {
  readonly values: LineValues;
  /** Parts actually made since `resetTally()`: the truth the adapter's deltas must add up to. */
  made = { good: 0, defective: 0 };
  readonly states: number[] = [];
  private server: OPCUAServer | undefined;
  private vars = new Map<string, UAVariable>();
  private bad = new Set<string>();
  port = 0;
  /**
   * The line's clock: the source timestamp of every value it writes. Real time by default; a demo
   * or a test sets its own to run a story at fixed times.
   */
  clock: () => Date = () => new Date();

  private readonly options: SimulatedLineOptions;
  private stateMachine: { readonly currentState: UAVariable; readonly number: UAVariable } | undefined;

  constructor(initial: Partial<LineValues> = {}, options: SimulatedLineOptions = {}) {
    this.values = { good: 0, defective: 0, state: 2, order: "", speed: 0, ...initial };
    this.options = options;
  }

  /** Node id of the variable that holds the state number: `NODES.state`, or `CurrentState/Number` of the base state machine. */
  get stateNodeId(): string {
    return this.stateMachine?.number.nodeId.toString() ?? NODES.state;
  }

  async start(port = 0): Promise<number> {
    const server = new OPCUAServer({ port, hostname: "127.0.0.1", alternateHostname: ["127.0.0.1"], nodeset_filename: [nodesets.standard, nodesets.packML] });
    await server.initialize();
    const addressSpace = server.engine.addressSpace;
    if (addressSpace === null) throw new Error("no address space");
    const packml = addressSpace.getNamespaceIndex("http://opcfoundation.org/UA/PackML/");
    const baseType = addressSpace.findObjectType("PackMLBaseObjectType", packml);
    if (baseType === null) throw new Error("PackMLBaseObjectType not found");
    const ns = addressSpace.getOwnNamespace();
    const line = baseType.instantiate({ browseName: "Line1", organizedBy: addressSpace.rootFolder.objects, nodeId: "s=Line1" }) as UAObject;
    const admin = ns.addObject({ browseName: "LineAdmin", componentOf: line, nodeId: "s=Line1.Admin" });
    const status = ns.addObject({ browseName: "LineStatus", componentOf: line, nodeId: "s=Line1.Status" });
    const minimumSamplingInterval = this.options.minimumSamplingInterval ?? 0;
    const add = (parent: UAObject, nodeId: string, browseName: string, dataType: DataType, value: unknown): void => {
      const v = ns.addVariable({ componentOf: parent, browseName, nodeId: nodeId.replace("ns=1;", ""), dataType: DataType[dataType], minimumSamplingInterval });
      v.setValueFromSource(new Variant({ dataType, value }), this.bad.has(nodeId) ? StatusCodes.BadSensorFailure : StatusCodes.Good, this.clock());
      this.vars.set(nodeId, v);
    };
    if (this.options.stateVariable === "CurrentState") {
      const machine = line.getComponentByName("BaseStateMachine", packml) as UAObject | null;
      const currentState = machine?.getComponentByName("CurrentState", 0) as UAVariable | null | undefined;
      if (currentState === null || currentState === undefined) throw new Error("BaseStateMachine/CurrentState not found");
      currentState.minimumSamplingInterval = minimumSamplingInterval;
      // Number is an optional property of StateVariableType (OPC 10000-5); servers that model PackML add it.
      const number = ns.addVariable({ propertyOf: currentState, browseName: { name: "Number", namespaceIndex: 0 }, nodeId: "s=Line1.BaseStateMachine.CurrentState.Number", dataType: "UInt32", minimumSamplingInterval });
      this.stateMachine = { currentState, number };
      this.writeState();
    } else {
      add(status, NODES.state, "StateCurrent", DataType.Int32, this.values.state);
    }
    add(admin, NODES.good, "ProdGoodCount", DataType.Int32, this.values.good);
    add(admin, NODES.defective, "ProdDefectiveCount", DataType.Int32, this.values.defective);
    add(line, NODES.order, "OrderNumber", DataType.String, this.values.order);
    add(status, NODES.speed, "CurMachSpeed", DataType.Double, this.values.speed);
    await server.start();
    this.server = server;
    this.port = server.endpoints[0]?.port ?? port;
    return this.port;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.vars.clear();
    this.stateMachine = undefined;
    await server?.shutdown(0);
  }

  /** Sessions and subscriptions the server has open now (0 while it is stopped): what clients cost it. */
  get connections(): { readonly sessions: number; readonly subscriptions: number } {
    return { sessions: this.server?.currentSessionCount ?? 0, subscriptions: this.server?.currentSubscriptionCount ?? 0 };
  }

  get endpointUrl(): string {
    return `opc.tcp://127.0.0.1:${this.port}`;
  }

  private write(nodeId: string, dataType: DataType, value: unknown): void {
    const status: StatusCode = this.bad.has(nodeId) ? StatusCodes.BadSensorFailure : StatusCodes.Good;
    this.vars.get(nodeId)?.setValueFromSource(new Variant({ dataType, value: this.bad.has(nodeId) ? 0 : value }), status, this.clock());
  }

  resetTally(): void {
    this.made = { good: 0, defective: 0 };
  }

  produce(good: number, defective = 0): void {
    this.values.good = wrapInt32(this.values.good + good);
    this.values.defective = wrapInt32(this.values.defective + defective);
    this.made.good += good;
    this.made.defective += defective;
    if (good !== 0) this.write(NODES.good, DataType.Int32, this.values.good);
    if (defective !== 0) this.write(NODES.defective, DataType.Int32, this.values.defective);
  }

  /** PackML Reset: the PLC zeroes Count (parts since the last reading were already reported). */
  resetCounters(): void {
    this.values.good = 0;
    this.values.defective = 0;
    this.write(NODES.good, DataType.Int32, 0);
    this.write(NODES.defective, DataType.Int32, 0);
  }

  /** Sets the good counter to a value without making parts, as an operator's preset does. */
  presetGood(value: number): void {
    this.values.good = wrapInt32(value);
    this.write(NODES.good, DataType.Int32, this.values.good);
  }

  setState(state: number): void {
    this.values.state = state;
    this.states.push(state);
    if (this.stateMachine === undefined) this.write(NODES.state, DataType.Int32, state);
    else this.writeState();
  }

  private writeState(): void {
    if (this.stateMachine === undefined) return;
    const now = this.clock();
    const name = PACKML_STATES[this.values.state]?.text ?? "";
    this.stateMachine.currentState.setValueFromSource(new Variant({ dataType: DataType.LocalizedText, value: new LocalizedText({ text: name, locale: "en" }) }), StatusCodes.Good, now);
    this.stateMachine.number.setValueFromSource(new Variant({ dataType: DataType.UInt32, value: this.values.state }), StatusCodes.Good, now);
  }

  setOrder(order: string): void {
    this.values.order = order;
    this.write(NODES.order, DataType.String, order);
  }

  setSpeed(speed: number): void {
    this.values.speed = speed;
    this.write(NODES.speed, DataType.Double, speed);
  }

  /** Marks a variable Bad (value 0, BadSensorFailure) or Good again with the line's real value. */
  setBad(nodeId: string, bad: boolean): void {
    if (bad) this.bad.add(nodeId);
    else this.bad.delete(nodeId);
    if (nodeId === NODES.good) this.write(nodeId, DataType.Int32, this.values.good);
    if (nodeId === NODES.defective) this.write(nodeId, DataType.Int32, this.values.defective);
  }
}

/** A TCP proxy on 127.0.0.1 that can cut every connection and refuse new ones for a while. */
export class CuttableProxy {
  private server: net.Server | undefined;
  private sockets = new Set<net.Socket>();
  port = 0;
  constructor(private readonly targetPort: number) {}

  async listen(port = 0): Promise<number> {
    const server = net.createServer((socket) => {
      const upstream = net.connect(this.targetPort, "127.0.0.1");
      this.sockets.add(socket);
      this.sockets.add(upstream);
      socket.pipe(upstream);
      upstream.pipe(socket);
      const close = (): void => {
        socket.destroy();
        upstream.destroy();
        this.sockets.delete(socket);
        this.sockets.delete(upstream);
      };
      socket.on("error", close);
      upstream.on("error", close);
      socket.on("close", close);
      upstream.on("close", close);
    });
    await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
    this.server = server;
    const address = server.address();
    this.port = typeof address === "object" && address !== null ? address.port : port;
    return this.port;
  }

  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Produces `count` batches every `everyMs`; each batch makes 1–3 good and sometimes a defective part. */
export async function run(line: SimulatedLine, count: number, everyMs: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    line.produce(1 + (i % 3), i % 4 === 0 ? 1 : 0);
    await delay(everyMs);
  }
}
