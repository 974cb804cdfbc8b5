// Bench server: N Int32 counters (machines × good/defective) incremented every INTERVAL ms.
// Runs in its own process so the client's CPU figures are the client's alone.
import { DataType, OPCUAServer, StatusCodes, Variant } from "node-opcua";

const machines = Number(process.env.MACHINES ?? 500);
const interval = Number(process.env.INTERVAL ?? 100);
const server = new OPCUAServer({ port: 0, hostname: "127.0.0.1", alternateHostname: ["127.0.0.1"], maxConnectionsPerEndpoint: machines + 20, maxAllowedSessionNumber: machines + 20 });
await server.initialize();
const ns = server.engine.addressSpace.getOwnNamespace();
const folder = ns.addFolder(server.engine.addressSpace.rootFolder.objects, { browseName: "Bench" });
const vars = [];
for (let m = 0; m < machines; m++) {
  for (const kind of ["Good", "Defective"]) {
    const v = ns.addVariable({ organizedBy: folder, browseName: `M${m}.${kind}`, nodeId: `s=M${m}.${kind}`, dataType: "Int32", minimumSamplingInterval: 0 });
    v.setValueFromSource(new Variant({ dataType: DataType.Int32, value: 0 }), StatusCodes.Good, new Date());
    vars.push({ v, value: 0 });
  }
}
await server.start();
process.send?.({ port: server.endpoints[0].port, items: vars.length });

setInterval(() => {

  const now = new Date();
  for (const entry of vars) {
    entry.value = (entry.value + 1) | 0;
    entry.v.setValueFromSource(new Variant({ dataType: DataType.Int32, value: entry.value }), StatusCodes.Good, now);
  }
}, interval);
process.on("message", async (msg) => {
  if (msg === "stop") {
    await server.shutdown(0);
    process.exit(0);
  }
});
