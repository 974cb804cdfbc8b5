// The capacity model of docs/scaling.md: from the measured per-core costs (bench/results/capacity.json)
// and a plant model, the cores, brokers and database connections a site and a company need, and
// which component saturates first. Pure: simulate.ts prints it, simulate.test.ts checks the doc.

/** One measured path of capacity.json. */
interface PathCost {
  readonly count: number;
  readonly clientUs: number;
  readonly serverUs: number | null;
  readonly wallUs: number;
  readonly note?: string;
}

/** What bench/capacity/measure.ts writes. */
export interface Capacity {
  readonly date: string;
  readonly node: string;
  readonly cpus: number;
  readonly loadavgBefore: readonly number[];
  readonly loadavgAfter: readonly number[];
  readonly paths: Readonly<Record<string, PathCost>>;
}

/** The plant model: how much one line produces, and how the estimate is padded. */
interface PlantModel {
  /** Canonical events per line per second, averaged over a shift. */
  readonly eventsPerLinePerSecond: number;
  /** The peak over the average (shift changes, order changeovers, reconnect catch-up). */
  readonly peakFactor: number;
  /** Workflow steps per line per second (order release, staging, holds). */
  readonly stepsPerLinePerSecond: number;
  /** Plan each core to this utilization at peak. */
  readonly targetUtilization: number;
  /** The scenarios of the table: a site with so many lines, or so many plants of so many lines. */
  readonly scenarios: readonly { readonly name: string; readonly plants: number; readonly linesPerPlant: number }[];
}

/**
 * The plant model of docs/scaling.md. A line of the plant demo emits, per order of about 85 min,
 * about 20 events (state changes, three counts, order, material and batch events); a line in
 * production with an OPC UA or Sparkplug adapter counting every 5–10 s and reporting states and
 * alarms emits far more. 0.5 events/s per line on average, 4× at peak, is the assumption here.
 */
const PLANT: PlantModel = {
  eventsPerLinePerSecond: 0.5,
  peakFactor: 4,
  stepsPerLinePerSecond: 0.01,
  targetUtilization: 0.6,
  scenarios: [
    { name: "site, 5 lines", plants: 1, linesPerPlant: 5 },
    { name: "site, 20 lines", plants: 1, linesPerPlant: 20 },
    { name: "site, 100 lines", plants: 1, linesPerPlant: 100 },
    { name: "company, 100 plants × 20 lines", plants: 100, linesPerPlant: 20 },
  ],
};

function cost(c: Capacity, path: string): PathCost {
  const p = c.paths[path];
  if (p === undefined) throw new Error(`capacity.json has no path ${path}`);
  return p;
}

const fmt = (x: number, digits = 1): string => (x >= 100 ? String(Math.round(x)) : x.toFixed(digits));

/** CPU µs per event of a consumer process: parse + transport client side + inbox client side + alignment. */
function appUs(c: Capacity, transport: string, store: string): number {
  return cost(c, "parse").clientUs + cost(c, `transport.${transport}`).clientUs + cost(c, `inbox.${store}`).clientUs + cost(c, "alignment").clientUs;
}

/**
 * The per-core table: each component's CPU µs per event and the events/s one core of it carries.
 *
 * @param c - the measured costs
 * @returns markdown rows
 */
function perCoreTable(c: Capacity): string[] {
  const rows: [string, number][] = [];
  for (const t of ["mqtt", "nats", "amqp"]) {
    const p = cost(c, `transport.${t}`);
    rows.push([`consumer process, ${t} + PostgreSQL inbox + alignment`, appUs(c, t, "postgresql")]);
    if (p.serverUs !== null) rows.push([`broker: ${t === "mqtt" ? "Mosquitto" : t === "nats" ? "nats-server (JetStream, R1)" : "RabbitMQ"}`, p.serverUs]);
  }
  for (const s of ["sqlite", "postgresql", "redis"]) {
    const p = cost(c, `inbox.${s}`);
    if (s === "sqlite") rows.push(["inbox on SQLite (in the consumer process)", p.clientUs]);
    else if (p.serverUs !== null) rows.push([`inbox on ${s === "redis" ? "Redis" : "PostgreSQL"}: the server's share`, p.serverUs]);
  }
  const wf = cost(c, "workflow.postgresql");
  if (wf.serverUs !== null) rows.push(["workflow step on PostgreSQL: the server's share", wf.serverUs]);
  rows.push(["workflow step on PostgreSQL: the runtime's share", wf.clientUs]);
  rows.push(["workflow step on SQLite (in process)", cost(c, "workflow.sqlite").clientUs]);
  return [
    "| component | CPU µs per event (per step) | events/s per core | lines per core at peak |",
    "|---|---:|---:|---:|",
    ...rows.map(([name, us]) => {
      const perCore = 1e6 / us;
      const perLine = name.startsWith("workflow") ? PLANT.stepsPerLinePerSecond * PLANT.peakFactor : PLANT.eventsPerLinePerSecond * PLANT.peakFactor;
      return `| ${name} | ${fmt(us)} | ${Math.round(perCore)} | ${Math.floor((perCore * PLANT.targetUtilization) / perLine)} |`;
    }),
  ];
}

/**
 * The sizing table: per scenario the peak event rate, the cores of consumers, brokers and
 * PostgreSQL, the database connections, and the component that saturates first.
 *
 * @param c - the measured costs
 * @returns markdown rows
 */
function sizingTable(c: Capacity): string[] {
  const transport = "mqtt";
  const app = appUs(c, transport, "postgresql");
  const broker = cost(c, `transport.${transport}`).serverUs ?? 0;
  const inbox = cost(c, "inbox.postgresql");
  const wf = cost(c, "workflow.postgresql");
  const dbUsPerEvent = inbox.serverUs ?? 0;
  const rows = PLANT.scenarios.map((s) => {
    const lines = s.plants * s.linesPerPlant;
    const peak = lines * PLANT.eventsPerLinePerSecond * PLANT.peakFactor;
    const steps = lines * PLANT.stepsPerLinePerSecond * PLANT.peakFactor;
    const u = PLANT.targetUtilization;
    const appCores = (peak * app + steps * wf.clientUs) / 1e6 / u;
    const brokerCores = (peak * broker) / 1e6 / u;
    const dbCores = (peak * dbUsPerEvent + steps * (wf.serverUs ?? 0)) / 1e6 / u;
    // Little's law: connections busy = rate × time a transaction holds one (the measured wall time), ×2 headroom, at least 2 per consumer process.
    const processes = Math.max(1, Math.ceil(appCores));
    const connections = Math.max(2 * processes, Math.ceil(((peak * inbox.wallUs + steps * wf.wallUs) / 1e6) * 2));
    // Per site (one broker and one database per plant), the busiest single-threaded component.
    const perSite = { consumer: appCores / s.plants, broker: brokerCores / s.plants, database: dbCores / s.plants };
    const first = (Object.entries(perSite) as [string, number][]).sort((a, b) => b[1] - a[1])[0]![0];
    return `| ${s.name} | ${lines} | ${fmt(peak)} | ${fmt(appCores, 2)} | ${fmt(brokerCores, 2)} | ${fmt(dbCores, 2)} | ${connections} | ${first} |`;
  });
  return [
    "| scenario | lines | peak events/s | consumer cores | Mosquitto cores | PostgreSQL cores | PostgreSQL connections | saturates first |",
    "|---|---:|---:|---:|---:|---:|---:|---|",
    ...rows,
  ];
}

/**
 * The tables docs/scaling.md shows, from the measured costs and {@link PLANT}.
 *
 * @param c - capacity.json
 * @returns markdown: a header line naming the measurement, the per-core table and the sizing table
 */
export function simulate(c: Capacity): string {
  return [
    `Measured ${c.date.slice(0, 10)} on ${c.cpus} cores, Node ${c.node}, load average ${c.loadavgBefore[0]} → ${c.loadavgAfter[0]}${Math.max(c.loadavgBefore[0] ?? 0, c.loadavgAfter[0] ?? 0) > 2 * c.cpus ? " (other jobs shared the machine)" : " (the measurement alone on the machine)"}. Plant model: ${PLANT.eventsPerLinePerSecond} events/s per line, peak ×${PLANT.peakFactor}, ${PLANT.stepsPerLinePerSecond} workflow steps/s per line, cores planned to ${PLANT.targetUtilization * 100} % at peak.`,
    "",
    ...perCoreTable(c),
    "",
    ...sizingTable(c),
  ].join("\n");
}
