import { findingDetails, formatDuration, formatTime, plainText, whereOf } from "./format.js";
import type { AlignmentReport, ReportFinding } from "./report.js";

/** Options of {@link renderReportText}. */
export interface TextReportOptions {
  /** How many breached and how many resolved findings to list (default 50 each); the counts are always complete. */
  readonly maxFindings?: number;
}

type Align = "left" | "right";

/** Lays rows out as columns separated by two spaces; the last column is not padded. */
function table(header: readonly string[], rows: readonly (readonly string[])[], align: readonly Align[]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, i) => {
        if (i === cells.length - 1 && align[i] !== "right") return cell;
        const width = widths[i] ?? 0;
        return align[i] === "right" ? cell.padStart(width) : cell.padEnd(width);
      })
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

function findingRows(findings: readonly ReportFinding[], limit: number, where: boolean): { rows: string[][]; more: number } {
  const rows = findings.slice(0, limit).map(({ finding, reasons }) => [
    plainText(finding.rule),
    plainText(finding.key),
    ...(where ? [plainText(whereOf(finding) ?? "")] : []),
    plainText(reasons.join(", ")),
    (finding.latenessMs > 0 ? formatDuration(finding.latenessMs) : "on time"),
    formatTime(finding.dueAt),
    plainText(findingDetails(finding).join("; ")),
  ]);
  return { rows, more: Math.max(0, findings.length - limit) };
}

/**
 * Renders the report as plain text: which time it judged the log at, the per-rule table (open,
 * breached, resolved, worst lateness), then the breached and the resolved findings with their
 * site and line, reasons, lateness and due time. Strings from events are stripped of control characters.
 *
 * @param report - the report
 * @param options - how many findings to list
 * @returns the text, lines separated by "\n", ending without a newline
 * @example
 * const report = buildAlignmentReport({ events, rules: builtInRules() });
 * if (report.isOk()) process.stdout.write(`${renderReportText(report.value)}\n`);
 */
export function renderReportText(report: AlignmentReport, options: TextReportOptions = {}): string {
  const limit = options.maxFindings ?? 50;
  const { events } = report;
  const out: string[] = [];
  out.push("Millwright alignment report");
  out.push(`Judged at ${formatTime(report.at)} (${report.atSource === "given" ? "the time given" : "the latest event in the log"})`);
  const span = events.first === undefined ? "" : `, from ${formatTime(events.first)} to ${formatTime(events.last ?? events.first)}`;
  out.push(`Events: ${events.read} read, ${events.used} used by the rules${span}`);
  const leftOut: string[] = [];
  if (events.duplicates > 0) leftOut.push(`${events.duplicates} duplicate${events.duplicates === 1 ? "" : "s"} ignored`);
  if (events.rejected > 0) leftOut.push(`${events.rejected} refused (no usable time)`);
  if (events.afterAt > 0) leftOut.push(`${events.afterAt} after the report time left out`);
  if (leftOut.length > 0) out.push(`Events: ${leftOut.join(", ")}`);
  out.push("");

  const ruleRows = report.rules.map((r) => [
    plainText(r.rule),
    formatDuration(r.deadlineMs),
    String(r.open),
    String(r.met),
    String(r.breached),
    String(r.resolved),
    r.worstLatenessMs === undefined ? "—" : `${formatDuration(r.worstLatenessMs)} (${plainText(r.worstKey ?? "")})`,
  ]);
  out.push(...table(["Rule", "Deadline", "Open", "Met", "Breached", "Resolved", "Worst lateness"], ruleRows, ["left", "right", "right", "right", "right", "right", "left"]));

  for (const status of ["breached", "resolved"] as const) {
    const list = report.findings.filter((f) => f.status === status);
    const where = list.some((f) => whereOf(f.finding) !== undefined);
    const header = ["Rule", "Key", ...(where ? ["Site / line"] : []), "Reasons", "Lateness", "Due", "Detail"];
    const align: Align[] = ["left", "left", ...(where ? ["left" as const] : []), "left", "right", "left", "left"];
    out.push("");
    if (list.length === 0) {
      out.push(status === "breached" ? "Breached: none" : "Resolved: none");
      continue;
    }
    out.push(`${status === "breached" ? "Breached" : "Resolved (breached, then met)"}: ${list.length}`);
    const { rows, more } = findingRows(list, limit, where);
    out.push(...table(header, rows, align));
    if (more > 0) out.push(`… and ${more} more`);
  }

  out.push("");
  out.push("Rules:");
  for (const r of report.rules) {
    const tolerance = r.tolerance === undefined ? "" : `, quantity tolerance ${plainText(r.tolerance)}`;
    out.push(`  ${plainText(r.rule)}: ${plainText(r.description)} (deadline ${formatDuration(r.deadlineMs)}${tolerance})`);
  }
  return out.join("\n");
}
