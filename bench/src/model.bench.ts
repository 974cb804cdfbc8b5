import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import { isCalendarDate, isDateTime, isUuid, parseWorkOrder } from "@millwright/model";
import { WorkOrderSchema } from "@millwright/model/zod";
import { compare, heapUsed } from "./measure.js";

const root = join(import.meta.dirname, "..", "..");
const text = readFileSync(join(root, "bench", "fixtures", "work-order-2kb.json"), "utf8");
const order = JSON.parse(text) as unknown;

/** The bare baseline: ajv compiling the same schema files, with default options. */
function bareAjv() {
  const ajv = new Ajv2020({ allowUnionTypes: true, strict: false });
  ajv.addFormat("date-time", isDateTime).addFormat("date", isCalendarDate).addFormat("uuid", isUuid);
  for (const group of ["common", "entities"]) {
    for (const name of readdirSync(join(root, "schemas", group))) {
      ajv.addSchema(JSON.parse(readFileSync(join(root, "schemas", group, name), "utf8")) as object);
    }
  }
  const validate = ajv.getSchema("https://schemas.millwright.dev/v1/entities/work-order.schema.json");
  if (validate === undefined) throw new Error("work order schema not found");
  return validate;
}

export interface ModelBenchResult {
  readonly payloadBytes: number;
  readonly nsPerCall: Record<string, number>;
  readonly parseVsAjv: number;
  readonly zodVsParse: number;
  readonly heap: { readonly unparsedBytes: number; readonly parsedBytes: number; readonly ratio: number; readonly count: number };
}

/** parseWorkOrder against the bare ajv validator and zod safeParse, and the heap of 100k parsed orders. */
export function benchModel(options: { rounds: number; iterations: number; heapCount: number }): ModelBenchResult {
  const ajv = bareAjv();
  if (!ajv(order) || !parseWorkOrder(order).isOk() || !WorkOrderSchema.safeParse(order).success) {
    throw new Error("the bench fixture must be valid for all contenders");
  }
  const ns = compare(
    {
      "ajv validate (bare)": () => ajv(order),
      parseWorkOrder: () => parseWorkOrder(order).isOk(),
      "zod safeParse": () => WorkOrderSchema.safeParse(order).success,
    },
    { iterations: options.iterations, rounds: options.rounds },
  );

  // Heap: N distinct orders as JSON.parse makes them, then the same orders parsed and kept.
  const before = heapUsed();
  const orders = Array.from({ length: options.heapCount }, () => JSON.parse(text) as unknown);
  const unparsed = heapUsed() - before;
  const parsed = orders.map((o) => parseWorkOrder(o));
  const withParsed = heapUsed() - before;
  if (parsed.some((r) => r.isErr())) throw new Error("unexpected parse failure");
  return {
    payloadBytes: Buffer.byteLength(JSON.stringify(order)),
    nsPerCall: ns,
    parseVsAjv: ns["parseWorkOrder"]! / ns["ajv validate (bare)"]!,
    zodVsParse: ns["zod safeParse"]! / ns["parseWorkOrder"]!,
    heap: { unparsedBytes: unparsed, parsedBytes: withParsed, ratio: withParsed / unparsed, count: options.heapCount },
  };
}
