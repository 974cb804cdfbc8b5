import { createRequire } from "node:module";
import { describe, expect, test } from "vitest";
import { catalogRows, renderCatalog, type CatalogBundle } from "./catalog.js";

const MARK = {
  since: "0.3.0",
  replacedBy: "dev.millwright.machinestate.changed.v2",
  reason: "v2 always states the operation mode; read v1 streams through the upcaster machineStateChangedV1ToV2",
};

/** The installed bundle with v1 of machinestate.changed marked deprecated, as a later release will. */
function markedBundle(): CatalogBundle {
  const bundle = structuredClone(createRequire(import.meta.url)("@millwright/model/schemas/bundle.schema.json")) as { $defs: Record<string, { "x-event"?: Record<string, unknown> }> };
  const meta = bundle.$defs["MachineStateChangedData"]?.["x-event"];
  if (meta === undefined) throw new Error("the bundle has no MachineStateChangedData event");
  meta["deprecated"] = MARK;
  return bundle as unknown as CatalogBundle;
}

describe("catalog deprecation marks", () => {
  test("the installed catalog deprecates nothing: Millwright's own adapters still publish every type", () => {
    expect(catalogRows().filter((r) => r.deprecated !== undefined)).toEqual([]);
  });

  test("a deprecated type carries its mark as data and in the text table; the others do not", () => {
    const rows = catalogRows(markedBundle());
    const v1 = rows.find((r) => r.type === "dev.millwright.machinestate.changed.v1");
    expect(v1?.deprecated).toEqual(MARK);
    expect(rows.filter((r) => r.deprecated !== undefined).map((r) => r.type)).toEqual(["dev.millwright.machinestate.changed.v1"]);
    const text = renderCatalog(rows);
    expect(text).toMatch(/^dev\.millwright\.machinestate\.changed\.v1 +MachineState +\/equipment\/id +\/equipment\/site\/id \+ \/equipment\/id +deprecated since 0\.3\.0: use dev\.millwright\.machinestate\.changed\.v2$/m);
    expect(text).toMatch(/^dev\.millwright\.machinestate\.changed\.v2 +MachineState +\/equipment\/id +\/equipment\/site\/id \+ \/equipment\/id$/m);
  });
});
