// Drift check: the tables in docs/scaling.md are what the simulation prints from the committed
// bench/results/capacity.json. After a new measurement, paste the output of simulate.ts between
// the markers.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { simulate, type Capacity } from "./model.js";

const ROOT = join(import.meta.dirname, "..", "..");

describe("capacity model", () => {
  it("docs/scaling.md shows the tables the simulation makes from bench/results/capacity.json", () => {
    const capacity = JSON.parse(readFileSync(join(ROOT, "bench/results/capacity.json"), "utf8")) as Capacity;
    const doc = readFileSync(join(ROOT, "docs/scaling.md"), "utf8");
    const found = /<!-- simulate:begin -->\n([\s\S]*?)\n<!-- simulate:end -->/.exec(doc);
    expect(found, "docs/scaling.md has the <!-- simulate:begin --> … <!-- simulate:end --> block").not.toBeNull();
    expect(found![1]).toBe(simulate(capacity));
  });

  it("every path the model reads was measured, with a positive cost", () => {
    const capacity = JSON.parse(readFileSync(join(ROOT, "bench/results/capacity.json"), "utf8")) as Capacity;
    for (const path of ["parse", "inbox.sqlite", "inbox.postgresql", "inbox.redis", "transport.mqtt", "transport.nats", "transport.amqp", "alignment", "workflow.sqlite", "workflow.postgresql"]) {
      expect(capacity.paths[path]?.clientUs, path).toBeGreaterThan(0);
    }
    expect(capacity.loadavgBefore).toHaveLength(3);
  });
});
