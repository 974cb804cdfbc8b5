import { findingDetails, formatDuration, formatTime, shortType, systemOf, whereOf } from "./format.js";
import type { AlignmentReport, ReportFinding } from "./report.js";
import type { OrderTimeline, TimelineDue } from "./timelines.js";

/** Options of {@link renderReportHtml}. */
export interface HtmlReportOptions {
  /** The page title (default "Millwright alignment report"). */
  readonly title?: string;
  /** How many breached and how many resolved findings to list in the tables (default 200 each). */
  readonly maxFindings?: number;
}

const ESCAPES: Readonly<Record<string, string>> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** Escapes a string for HTML text and attribute values (and for inline SVG, which is parsed as HTML). */
function esc(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

const RED = "#c62828";
const AMBER = "#a15c00";
const OPEN = "#455a64";
const PALETTE = ["#1565c0", "#2e7d32", "#6a1b9a", "#00838f", "#5d4037", "#37474f"] as const;

const CSS = `
:root { color-scheme: light; --ink: #1b1f24; --muted: #57606a; --line: #d0d7de; --soft: #f6f8fa; --red: ${RED}; --amber: ${AMBER}; --green: #1a7f37; }
* { box-sizing: border-box; }
html { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans", sans-serif; color: var(--ink); background: #fff; }
body { margin: 0; }
main { max-width: 1200px; margin: 0 auto; padding: 24px; }
h1 { font-size: 1.6rem; margin: 0 0 4px; }
h2 { font-size: 1.25rem; margin: 32px 0 8px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 1.05rem; margin: 0 0 4px; }
p { margin: 4px 0; }
.muted { color: var(--muted); }
.status { display: inline-block; margin: 8px 0; padding: 4px 12px; border-radius: 999px; font-weight: 600; }
.status.bad { background: #ffebe9; color: var(--red); border: 1px solid #ffc1bc; }
.status.good { background: #dafbe1; color: var(--green); border: 1px solid #aceebb; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 8px 0 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; }
table { width: 100%; border-collapse: collapse; table-layout: auto; font-size: 0.92rem; }
caption { text-align: left; color: var(--muted); padding: 0 0 6px; }
th, td { text-align: left; vertical-align: top; padding: 6px 10px; border-bottom: 1px solid var(--line); overflow-wrap: break-word; }
table.findings .rule-name { white-space: nowrap; }
table.findings code.key { display: block; max-width: 20rem; overflow-wrap: anywhere; }
table.findings td.when, table.findings td.where { white-space: nowrap; }
table.findings td.evidence { min-width: 20rem; }
p.detail { margin: 0 0 4px; font-weight: 600; }
thead th { background: var(--soft); border-bottom: 2px solid var(--line); white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.when { white-space: nowrap; }
td.bad { color: var(--red); font-weight: 600; }
td.warn { color: var(--amber); font-weight: 600; }
.rule-name { font-weight: 600; }
.desc { display: block; color: var(--muted); font-size: 0.85rem; }
code { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 0.88em; }
.reason { display: inline-block; padding: 0 6px; margin: 0 4px 2px 0; border-radius: 4px; font-size: 0.85rem; background: #ffebe9; color: var(--red); }
.reason.late, .reason.abandoned { background: #fff1e0; color: var(--amber); }
ul.evidence { margin: 0; padding: 0; list-style: none; font-size: 0.85rem; }
article.order { margin: 20px 0 28px; }
article.order svg { display: block; width: 100%; height: auto; margin-top: 8px; border: 1px solid var(--line); border-radius: 6px; background: #fff; }
.legend { font-size: 0.85rem; color: var(--muted); }
.legend span { display: inline-block; margin-right: 14px; }
.swatch { display: inline-block; width: 18px; height: 0; vertical-align: middle; margin-right: 4px; border-top: 2px dashed; }
`;

function reasonBadges(reasons: readonly string[]): string {
  return reasons.map((r) => `<span class="reason ${esc(r.replace(/[^a-z_]/gi, ""))}">${esc(r.replace(/_/g, " "))}</span>`).join("");
}

function evidenceList(finding: ReportFinding["finding"]): string {
  const shown = finding.evidence.slice(0, 4).map((e) => {
    const s = systemOf(e.source);
    return `<li><code>${esc(shortType(e.type))}</code>${e.reversal === true ? " (reversal)" : ""} from ${esc(s.system)}${s.instance === "" ? "" : ` ${esc(s.instance)}`}, ${esc(formatTime(e.time))}</li>`;
  });
  const more = finding.evidence.length - shown.length;
  if (more > 0) shown.push(`<li class="muted">and ${more} more</li>`);
  return `<ul class="evidence">${shown.join("")}</ul>`;
}

function findingsTable(findings: readonly ReportFinding[], status: "breached" | "resolved", limit: number): string {
  const list = findings.filter((f) => f.status === status);
  const heading = status === "breached" ? "Breached" : "Resolved";
  if (list.length === 0) {
    return `<section aria-labelledby="h-${status}"><h2 id="h-${status}">${heading}</h2><p class="muted">${status === "breached" ? "Nothing is out of alignment." : "No breach was met late or abandoned."}</p></section>`;
  }
  const caption =
    status === "breached"
      ? "Still out of alignment at the report time: the fulfilment is missing, or the quantities disagree. Worst first, per rule."
      : "Breached, then met: the fulfilment came after the deadline, or the expectation was abandoned.";
  const where = list.some((f) => whereOf(f.finding) !== undefined);
  const rows = list.slice(0, limit).map(({ finding, reasons }) => {
    const lateClass = status === "breached" ? "bad" : "warn";
    const details = findingDetails(finding).map((d) => `<p class="detail">${esc(d)}</p>`).join("");
    return `<tr><td><span class="rule-name">${esc(finding.rule)}</span><code class="key">${esc(finding.key)}</code></td>${where ? `<td class="where">${esc(whereOf(finding) ?? "")}</td>` : ""}<td>${reasonBadges(reasons)}</td><td class="num ${finding.latenessMs > 0 ? lateClass : ""}">${esc(finding.latenessMs > 0 ? formatDuration(finding.latenessMs) : "on time")}</td><td class="when">${esc(formatTime(finding.dueAt))}</td><td class="evidence">${details}${evidenceList(finding)}</td></tr>`;
  });
  const more = list.length - rows.length;
  return `<section aria-labelledby="h-${status}"><h2 id="h-${status}">${heading} (${list.length})</h2>
<table class="findings"><caption>${caption}</caption>
<thead><tr><th scope="col">Rule and key</th>${where ? `<th scope="col">Site / line</th>` : ""}<th scope="col">Reasons</th><th scope="col" class="num">Lateness</th><th scope="col">Due</th><th scope="col">Detail and evidence</th></tr></thead>
<tbody>${rows.join("\n")}</tbody></table>${more > 0 ? `<p class="muted">and ${more} more, not listed</p>` : ""}</section>`;
}

function rulesTable(report: AlignmentReport): string {
  const rows = report.rules.map((r) => {
    const tolerance = r.tolerance === undefined ? "" : `; quantity tolerance ${esc(r.tolerance)}`;
    const worst = r.worstLatenessMs === undefined ? `<span class="muted">—</span>` : `${esc(formatDuration(r.worstLatenessMs))} <span class="muted">(<code>${esc(r.worstKey ?? "")}</code>)</span>`;
    return `<tr><th scope="row"><span class="rule-name">${esc(r.rule)}</span><span class="desc">${esc(r.description)}${tolerance}</span></th><td class="num">${esc(formatDuration(r.deadlineMs))}</td><td class="num">${r.open}</td><td class="num">${r.met}</td><td class="num ${r.breached > 0 ? "bad" : ""}">${r.breached}</td><td class="num ${r.resolved > 0 ? "warn" : ""}">${r.resolved}</td><td class="num">${worst}</td></tr>`;
  });
  return `<section aria-labelledby="h-rules"><h2 id="h-rules">Rules</h2>
<table class="rules"><caption>Per rule: keys still open (not yet due), met on time, breached at the report time, resolved (breached, then met), and the worst lateness.</caption>
<thead><tr><th scope="col">Rule</th><th scope="col" class="num">Deadline</th><th scope="col" class="num">Open</th><th scope="col" class="num">Met</th><th scope="col" class="num">Breached</th><th scope="col" class="num">Resolved</th><th scope="col" class="num">Worst lateness</th></tr></thead>
<tbody>${rows.join("\n")}</tbody></table></section>`;
}

// Timeline geometry, in SVG user units (1 unit ≈ 1 CSS px at 1280 px wide).
const W = 1152;
const GUTTER = 150;
const X0 = GUTTER + 20;
const X1 = W - 24;
const AXIS = 30;
const MARKER_Y = 16;
const SUB_H = 28;
const CHAR_W = 6.3;
const MAX_SUBLANES = 4;
const DUE_ROW = 32;

const STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1_440, 2_880, 10_080].map((m) => m * 60_000);

function hhmm(ms: number, withDate: boolean): string {
  const iso = new Date(ms).toISOString();
  return withDate ? `${iso.slice(5, 10)} ${iso.slice(11, 16)}` : iso.slice(11, 16);
}

/** Places labels of estimated widths into the first row where they overlap no other; undefined when none has room. */
function placer(rows: number, left: number, right: number): (x: number, width: number) => { row: number; anchor: "start" | "end"; x: number } | undefined {
  const taken: [number, number][][] = Array.from({ length: rows }, () => []);
  return (x, width) => {
    const anchor = x + width > right ? "end" : "start";
    const start = Math.max(left, anchor === "start" ? x - 4 : x + 4 - width);
    const end = start + width;
    for (let row = 0; row < rows; row++) {
      const spans = taken[row] as [number, number][];
      if (spans.every(([a, b]) => end + 10 <= a || b + 10 <= start)) {
        spans.push([start, end]);
        return { row, anchor, x: anchor === "start" ? start + 4 : x + 4 };
      }
    }
    return undefined;
  };
}

function dueColour(due: TimelineDue): string {
  return due.status === "breached" ? RED : due.status === "resolved" ? AMBER : OPEN;
}

function dueStatusText(due: TimelineDue): string {
  // "late" is said by the lateness itself.
  const reasons = due.reasons.filter((r) => !(r === "late" && due.latenessMs > 0)).map((r) => r.replace(/_/g, " ")).join(", ");
  if (due.status === "open") return "open, not yet due";
  const late = due.latenessMs > 0 ? `${formatDuration(due.latenessMs)} late` : "";
  return `${due.status}: ${[reasons, late].filter((s) => s !== "").join(", ")}`;
}

/** Events (by source and id) that findings name: as evidence of a breach, and as triggers or fulfilments. */
interface Marks {
  readonly breach: ReadonlySet<string>;
  readonly important: ReadonlySet<string>;
}

const keyOf = (e: { readonly source: string; readonly id: string } | undefined): string => (e === undefined ? "" : `${e.source}\u0000${e.id}`);

function timelineSvg(order: OrderTimeline, n: number, report: AlignmentReport, marks: Marks): string {
  const atMs = Date.parse(report.at);
  const times = order.events.map((e) => Date.parse(e.time));
  // The scale covers the events, the due times and lateness of findings and, when something is
  // still open or missing, the report time. Open due times far beyond that sit off the scale.
  const closed = order.dues.filter((d) => d.status !== "open").flatMap((d) => [Date.parse(d.dueAt), Date.parse(d.dueAt) + d.latenessMs]);
  const all = [...times, ...closed].filter((t) => Number.isFinite(t));
  if (all.length === 0) all.push(atMs);
  let lo = Math.min(...all);
  let hi = Math.max(...all);
  const showAt = order.dues.some((d) => d.status === "open" || (d.status === "breached" && d.reasons.includes("missing")));
  if (showAt) hi = Math.max(hi, atMs);
  for (const d of order.dues) {
    const t = Date.parse(d.dueAt);
    if (d.status === "open" && t > hi && t <= hi + Math.max(hi - lo, 6 * 60 * 60_000)) hi = t;
  }
  if (hi - lo < 20 * 60_000) {
    const mid = (lo + hi) / 2;
    lo = mid - 10 * 60_000;
    hi = mid + 10 * 60_000;
  }
  const pad = (hi - lo) * 0.03;
  lo -= pad;
  hi += pad;
  const x = (t: number): number => X0 + ((t - lo) / (hi - lo)) * (X1 - X0);
  const multiDay = new Date(lo).toISOString().slice(0, 10) !== new Date(hi).toISOString().slice(0, 10);

  // Lanes: one per system, in order of first appearance.
  const lanes: { key: string; system: string; instance: string; events: number[] }[] = [];
  order.events.forEach((e, i) => {
    const s = systemOf(e.source);
    let lane = lanes.find((l) => l.key === e.source);
    if (lane === undefined) {
      lane = { key: e.source, system: s.system, instance: s.instance, events: [] };
      lanes.push(lane);
    }
    lane.events.push(i);
  });

  const parts: string[] = [];
  let y = AXIS;
  let hiddenLabels = 0;
  const laneBackgrounds: string[] = [];
  const laneParts: string[] = [];
  lanes.forEach((lane, li) => {
    const place = placer(MAX_SUBLANES, X0 - 10, X1 + 20);
    const spots = new Map<number, ReturnType<ReturnType<typeof placer>>>();
    // Triggers and fulfilments of findings get their labels first; the rest fill the room left.
    const byImportance = [...lane.events].sort((a, b) => Number(marks.important.has(keyOf(order.events[b]))) - Number(marks.important.has(keyOf(order.events[a]))) || a - b);
    for (const i of byImportance) {
      const e = order.events[i];
      if (e !== undefined) spots.set(i, place(x(times[i] ?? lo), Math.max(shortType(e.type).length, 5) * CHAR_W + 8));
    }
    const placed = lane.events.map((i) => {
      const e = order.events[i];
      return e === undefined ? undefined : { e, t: times[i] ?? lo, label: shortType(e.type), spot: spots.get(i) };
    });
    const used = Math.max(1, ...placed.map((p) => (p?.spot === undefined ? 0 : p.spot.row + 1)));
    const height = MARKER_Y + 12 + used * SUB_H;
    const colour = PALETTE[li % PALETTE.length] ?? PALETTE[0];
    const system = lane.system.length <= 8 && /^[a-z0-9-]+$/.test(lane.system) ? lane.system.toUpperCase() : lane.system;
    const cut = (s: string, max: number): string => (s.length > max ? `${s.slice(0, max - 1)}…` : s);
    laneBackgrounds.push(`<rect x="0" y="${y}" width="${W}" height="${height}" fill="${li % 2 === 0 ? "#f6f8fa" : "#ffffff"}"/>`);
    laneParts.push(`<g class="lane">` +
      `<text x="12" y="${y + MARKER_Y + 4}" font-size="13" font-weight="700" fill="${colour}">${esc(cut(system, 18))}<title>${esc(lane.key)}</title></text>` +
      (lane.instance === "" ? "" : `<text x="12" y="${y + MARKER_Y + 19}" font-size="11" fill="#57606a">${esc(cut(lane.instance, 22))}</text>`) +
      `<line x1="${X0 - 10}" x2="${X1 + 10}" y1="${y + MARKER_Y}" y2="${y + MARKER_Y}" stroke="#d0d7de"/></g>`);
    for (const p of placed) {
      if (p === undefined) continue;
      const cx = x(p.t);
      const cy = y + MARKER_Y;
      const breach = marks.breach.has(keyOf(p.e));
      const tooltip = `${lane.key} · ${p.e.type} · ${formatTime(p.e.time)} · id ${p.e.id}${breach ? " · evidence of a breach" : ""}`;
      let label = "";
      if (p.spot === undefined) hiddenLabels += 1;
      else {
        const ty = cy + 22 + p.spot.row * SUB_H;
        const leader = p.spot.row > 0 ? `<line x1="${cx.toFixed(1)}" x2="${cx.toFixed(1)}" y1="${cy + 7}" y2="${ty - 10}" stroke="#8c959f" stroke-width="0.8"/>` : "";
        label = `${leader}<text x="${p.spot.x.toFixed(1)}" y="${ty}" font-size="11" text-anchor="${p.spot.anchor}" fill="#1b1f24" stroke="#ffffff" stroke-width="2" stroke-opacity="0.85" stroke-linejoin="round" paint-order="stroke">${esc(p.label)}` +
          `<tspan x="${p.spot.x.toFixed(1)}" dy="12" fill="#57606a">${esc(hhmm(p.t, multiDay))}</tspan></text>`;
      }
      laneParts.push(`<g class="marker"><title>${esc(tooltip)}</title><circle cx="${cx.toFixed(1)}" cy="${cy}" r="6" fill="${colour}" stroke="${breach ? RED : "#ffffff"}" stroke-width="${breach ? 3 : 1.5}"/>${label}</g>`);
    }
    y += height;
  });
  const plotBottom = y;

  // Time axis: ticks at a round step, at most about eight of them.
  const step = STEPS.find((s) => (hi - lo) / s <= 8) ?? (STEPS[STEPS.length - 1] as number);
  const ticks: string[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi; t += step) {
    const tx = x(t).toFixed(1);
    ticks.push(`<line x1="${tx}" x2="${tx}" y1="${AXIS - 6}" y2="${plotBottom}" stroke="#e6e9ed"/><text x="${tx}" y="${AXIS - 10}" font-size="11" text-anchor="middle" fill="#57606a">${esc(hhmm(t, multiDay))}</text>`);
  }

  // Due times (dashed), lateness as a band from the due time to the fulfilment (or to the report time).
  const bands: string[] = [];
  const dueLines: string[] = [];
  const placeDue = placer(6, X0 - 10, X1 + 20);
  let dueRows = 0;
  const labelled = order.dues.map((due) => ({ due, t: Date.parse(due.dueAt) }));
  if (showAt) labelled.push({ due: { rule: "", key: "", dueAt: report.at, status: "open", latenessMs: 0, reasons: [] }, t: atMs });
  labelled.sort((a, b) => a.t - b.t);
  for (const { due, t } of labelled) {
    const offScale = t > hi;
    const dx = offScale ? X1 + 12 : x(t);
    const isAt = due.rule === "";
    const colour = isAt ? "#1b1f24" : dueColour(due);
    const when = offScale ? `${formatTime(t)} (off the scale →)` : hhmm(t, multiDay);
    const line1 = isAt ? "report time" : `${due.rule}${due.key === order.orderId ? "" : ` (${due.key})`} due ${when}`;
    const line2 = isAt ? hhmm(t, multiDay) : dueStatusText(due);
    const spot = placeDue(dx, Math.max(line1.length, line2.length) * CHAR_W + 8);
    const row = spot?.row ?? 0;
    dueRows = Math.max(dueRows, row + 1);
    const ly = plotBottom + 16 + row * DUE_ROW;
    if (!isAt && due.status !== "open" && due.latenessMs > 0) {
      const bx = dx;
      const bw = Math.max(1, x(t + due.latenessMs) - dx);
      bands.push(`<rect x="${bx.toFixed(1)}" y="${AXIS}" width="${bw.toFixed(1)}" height="${plotBottom - AXIS}" fill="${colour}" fill-opacity="0.10"><title>${esc(`${due.rule} ${due.key}: ${formatDuration(due.latenessMs)} after the due time`)}</title></rect>`);
    }
    dueLines.push(
      `<g class="due"><title>${esc(isAt ? `report time ${formatTime(t)}` : `${due.rule} ${due.key}: due ${formatTime(due.dueAt)}; ${dueStatusText(due)}`)}</title>` +
        `<line x1="${dx.toFixed(1)}" x2="${dx.toFixed(1)}" y1="${AXIS}" y2="${ly - 11}" stroke="${colour}" stroke-width="${isAt ? 1.5 : 2}" ${isAt ? "" : 'stroke-dasharray="6 4"'}/>` +
        (spot === undefined
          ? ""
          : `<text x="${spot.x.toFixed(1)}" y="${ly}" font-size="11" text-anchor="${spot.anchor}" fill="${colour}" font-weight="${due.status === "breached" ? 700 : 400}">${esc(line1)}<tspan x="${spot.x.toFixed(1)}" dy="13">${esc(line2)}</tspan></text>`) +
        "</g>",
    );
  }
  const height = plotBottom + (dueRows === 0 ? 8 : 16 + dueRows * DUE_ROW);
  // Painted bottom up: lane backgrounds, the time grid and lateness bands, then lanes, markers and due times.
  parts.push(`<rect x="0" y="0" width="${W}" height="${height}" fill="#ffffff"/>`, ...laneBackgrounds, ...ticks, ...bands, ...laneParts, ...dueLines);

  const dueSummary = order.dues.map((d) => `${d.rule} ${d.key} due ${formatTime(d.dueAt)}, ${dueStatusText(d)}`).join("; ");
  const desc = `${order.events.length} events from ${formatTime(order.events[0]?.time ?? report.at)} to ${formatTime(order.events[order.events.length - 1]?.time ?? report.at)} across ${lanes.length} system(s). ${dueSummary === "" ? "No due times." : `Due times: ${dueSummary}.`}${hiddenLabels > 0 ? ` ${hiddenLabels} marker labels hidden where markers crowd; hover a marker for its details.` : ""}`;
  return `<svg viewBox="0 0 ${W} ${height}" width="${W}" height="${height}" role="img" aria-labelledby="tl-${n}-title tl-${n}-desc" font-family="system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', sans-serif">` +
    `<title id="tl-${n}-title">Timeline of work order ${esc(order.orderId)}</title><desc id="tl-${n}-desc">${esc(desc)}</desc>${parts.join("")}</svg>`;
}

function orderSection(order: OrderTimeline, n: number, report: AlignmentReport, marks: Marks): string {
  const breached = order.dues.filter((d) => d.status === "breached").length;
  const resolved = order.dues.filter((d) => d.status === "resolved").length;
  const open = order.dues.filter((d) => d.status === "open").length;
  const facts = [
    breached > 0 ? `<strong style="color:${RED}">${breached} breached</strong>` : "",
    resolved > 0 ? `<span style="color:${AMBER}">${resolved} resolved</span>` : "",
    open > 0 ? `${open} open` : "",
    order.events.length < order.eventCount ? `showing ${order.events.length} of ${order.eventCount} events` : `${order.eventCount} event${order.eventCount === 1 ? "" : "s"}`,
  ].filter((s) => s !== "");
  return `<article class="order" aria-labelledby="o-${n}"><h3 id="o-${n}">Work order <code>${esc(order.orderId)}</code></h3><p class="muted">${facts.join(" · ")}</p>${timelineSvg(order, n, report, marks)}</article>`;
}

/**
 * Renders the report as one self-contained HTML page: inline CSS, inline SVG, no scripts and no
 * external URLs. It holds the per-rule table, the breached and resolved findings with reasons and
 * lateness, and a timeline per work order (one lane per system, a marker per event, each rule's
 * due time as a dashed line, breaches in red). Every string from events is escaped.
 *
 * @param report - the report
 * @param options - the page title and how many findings to list
 * @returns the HTML document
 * @example
 * const report = buildAlignmentReport({ events, rules: builtInRules() });
 * if (report.isOk()) writeFileSync("alignment.html", renderReportHtml(report.value));
 */
export function renderReportHtml(report: AlignmentReport, options: HtmlReportOptions = {}): string {
  const title = options.title ?? "Millwright alignment report";
  const limit = options.maxFindings ?? 200;
  const { events, totals, timelines } = report;
  const breach = new Set<string>();
  const important = new Set<string>();
  for (const f of report.findings) {
    for (const e of f.finding.evidence) {
      if (f.status === "breached") breach.add(keyOf(e));
      if (e.role === "trigger" || e.role === "fulfilment") important.add(keyOf(e));
    }
  }
  const marks: Marks = { breach, important };

  const status =
    totals.breached > 0
      ? `<p class="status bad" role="status">${totals.breached} breached · ${totals.resolved} resolved · ${totals.open} open</p>`
      : `<p class="status good" role="status">Nothing breached · ${totals.resolved} resolved · ${totals.open} open</p>`;
  const leftOut = [
    events.duplicates > 0 ? `${events.duplicates} duplicate${events.duplicates === 1 ? "" : "s"} ignored` : "",
    events.rejected > 0 ? `${events.rejected} refused (no usable time)` : "",
    events.afterAt > 0 ? `${events.afterAt} after the report time, left out` : "",
  ].filter((s) => s !== "");
  const facts = `<dl class="facts">
<dt>Judged at</dt><dd>${esc(formatTime(report.at))} <span class="muted">(${report.atSource === "given" ? "the time given" : "the latest event in the log"})</span></dd>
<dt>Events</dt><dd>${events.read} read, ${events.used} used by the rules${events.first === undefined ? "" : `, from ${esc(formatTime(events.first))} to ${esc(formatTime(events.last ?? events.first))}`}${leftOut.length > 0 ? `; ${esc(leftOut.join(", "))}` : ""}</dd>
<dt>Rules</dt><dd>${report.rules.length}${report.checkEveryMs === undefined ? ", evaluated at the report time" : `, evaluated every ${esc(formatDuration(report.checkEveryMs))} of event time while reading, as a monitor would`}</dd>
</dl>`;

  const notes = [
    timelines.notShown > 0 ? `${timelines.notShown} more work order${timelines.notShown === 1 ? "" : "s"} not shown (at most ${timelines.maxOrders}; breached ones first).` : "",
    timelines.dropped > 0 ? `${timelines.dropped} healthy work order timeline${timelines.dropped === 1 ? " was" : "s were"} dropped while reading, to bound memory.` : "",
    timelines.untrackedEvents > 0 ? `${timelines.untrackedEvents} events of work orders beyond the tracking limit are not on any timeline.` : "",
    timelines.orders.some((o) => o.events.length < o.eventCount) ? `A timeline shows at most ${timelines.maxEventsPerOrder} events, keeping triggers and fulfilments.` : "",
  ].filter((s) => s !== "");
  const legend = `<p class="legend"><span><span class="swatch" style="border-color:${RED}"></span>due time, breached</span><span><span class="swatch" style="border-color:${AMBER}"></span>due time, met late</span><span><span class="swatch" style="border-color:${OPEN}"></span>due time, open</span><span>shaded: lateness</span><span>red ring: evidence of a breach</span></p>`;
  const orders =
    timelines.orders.length === 0
      ? `<p class="muted">No event in the log names a work order.</p>`
      : `${legend}${notes.map((n) => `<p class="muted">${esc(n)}</p>`).join("")}${timelines.orders.map((o, i) => orderSection(o, i + 1, report, marks)).join("\n")}`;

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)} — ${esc(formatTime(report.at))}</title>
<style>${CSS}</style>
</head>
<body>
<main>
<header>
<h1>${esc(title)}</h1>
${status}
${facts}
</header>
${rulesTable(report)}
${findingsTable(report.findings, "breached", limit)}
${findingsTable(report.findings, "resolved", limit)}
<section aria-labelledby="h-orders"><h2 id="h-orders">Work orders</h2>
${orders}
</section>
</main>
</body>
</html>
`;
}
