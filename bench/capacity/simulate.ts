// Prints the tables of docs/scaling.md from bench/results/capacity.json and the plant model of
// model.ts. Run: node --conditions=@millwright/source --import tsx bench/capacity/simulate.ts
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { simulate, type Capacity } from "./model.js";

const capacity = JSON.parse(readFileSync(join(import.meta.dirname, "..", "results", "capacity.json"), "utf8")) as Capacity;
console.log(simulate(capacity));
