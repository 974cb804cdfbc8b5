// The one place that loads node-opcua's values. Everything else imports its types only, so the pure
// core (configuration, counters, state mapping, the line-state reducer, stores) loads without it:
// node-opcua brings over a hundred packages and prints a security warning when it loads.
import type * as NodeOpcua from "node-opcua";

/** The node-opcua module, as the runtime and discovery use it. */
export type NodeOpcuaModule = typeof NodeOpcua;

/**
 * Loads node-opcua on first use (Node caches it after that).
 *
 * @returns the module's namespace
 */
export function loadNodeOpcua(): Promise<NodeOpcuaModule> {
  return import("node-opcua");
}
