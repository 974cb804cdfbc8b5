// @millwright/adapter-opcua/test-server: a packaging line simulated on a real node-opcua server
// (the PackML companion nodeset), and a TCP proxy that can cut connections, for users' own tests.
export { CuttableProxy, delay, NODES, run, SimulatedLine, type LineValues, type SimulatedLineOptions } from "./line-simulator.js";
