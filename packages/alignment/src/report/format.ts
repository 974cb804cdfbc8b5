// Small, pure formatting helpers shared by the text and HTML renderers.
import { parseMillwrightSource } from "@millwright/events";

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const pad2 = (n: number): string => String(n).padStart(2, "0");

/**
 * Formats a duration for people: "45 s", "12 min", "1 h 05 min", "4 h", "3 d 04 h". Rounds down
 * to the unit shown, so a lateness is never overstated.
 *
 * @param ms - the duration in milliseconds (negative values are shown as 0 s)
 * @returns the duration in words
 * @example
 * formatDuration(65 * 60_000); // "1 h 05 min"
 */
export function formatDuration(ms: number): string {
  const value = Number.isFinite(ms) && ms > 0 ? ms : 0;
  if (value < MINUTE) return `${Math.floor(value / SECOND)} s`;
  if (value < HOUR) return `${Math.floor(value / MINUTE)} min`;
  if (value < DAY) {
    const minutes = Math.floor((value % HOUR) / MINUTE);
    return `${Math.floor(value / HOUR)} h${minutes === 0 ? "" : ` ${pad2(minutes)} min`}`;
  }
  const hours = Math.floor((value % DAY) / HOUR);
  return `${Math.floor(value / DAY)} d${hours === 0 ? "" : ` ${pad2(hours)} h`}`;
}

/**
 * Formats an instant as "2026-03-02 06:00 UTC" (seconds only when they are not zero). Reports are
 * in UTC: the plant's time zone is configuration the report does not have.
 *
 * @param time - an ISO 8601 time or ms since the epoch
 * @returns the time for people, or the input unchanged when it is not a time
 * @example
 * formatTime("2026-03-02T06:00:00Z"); // "2026-03-02 06:00 UTC"
 */
export function formatTime(time: string | number): string {
  const ms = typeof time === "number" ? time : Date.parse(time);
  if (Number.isNaN(ms)) return String(time);
  const iso = new Date(ms).toISOString();
  const seconds = iso.slice(17, 19);
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)}${seconds === "00" ? "" : `:${seconds}`} UTC`;
}

/** The system behind an event source, for labels: `urn:millwright:sap:S4PCLNT100` → sap, S4PCLNT100. */
export interface SystemLabel {
  readonly system: string;
  readonly instance: string;
}

/**
 * Splits an event `source` into the system and the instance that people recognise: the parts of a
 * Millwright source (`parseMillwrightSource`), the host of a URL, or the source itself.
 *
 * @param source - the CloudEvents `source`
 * @returns the system and the instance (empty when there is none)
 * @example
 * systemOf("urn:millwright:mes:line-fab"); // { system: "mes", instance: "line-fab" }
 */
export function systemOf(source: string): SystemLabel {
  const millwright = parseMillwrightSource(source);
  if (millwright !== undefined) return millwright;
  const url = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]+)(.*)$/i.exec(source);
  if (url !== null) return { system: url[1] ?? source, instance: url[2] ?? "" };
  return { system: source, instance: "" };
}

/**
 * Shortens a Millwright event type for labels: `dev.millwright.workorder.released.v1` →
 * `workorder.released`. Other types are kept whole.
 *
 * @param type - the CloudEvents `type`
 * @returns the short type
 * @example
 * shortType("dev.millwright.qualityhold.placed.v1"); // "qualityhold.placed"
 */
export function shortType(type: string): string {
  const m = /^dev\.millwright\.(.+?)(?:\.v\d+)?$/.exec(type);
  return m?.[1] ?? type;
}

/** Replaces control characters (newlines, ANSI escapes) so a string from an event cannot break a line or a terminal. */
export function plainText(value: string): string {
  return value.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

function label(value: unknown): string | undefined {
  if (typeof value === "string" || typeof value === "number") return String(value);
  if (typeof value === "object" && value !== null && "id" in value) {
    const id: unknown = (value as { readonly id: unknown }).id;
    if (typeof id === "string" || typeof id === "number") return String(id);
  }
  return undefined;
}

/** Where a finding happened, "site / line", when it names either; tolerates fields it does not know. */
export function whereOf(finding: object): string | undefined {
  const f = finding as Readonly<Record<string, unknown>>;
  const parts = [label(f["site"]), label(f["line"])].filter((s): s is string => s !== undefined);
  return parts.length === 0 ? undefined : parts.join(" / ");
}

/**
 * The optional facts of a finding, in words: the quantity difference and why quantities could not
 * be compared. Tolerates fields it does not know.
 */
export function findingDetails(finding: object): string[] {
  const f = finding as Readonly<Record<string, unknown>>;
  const details: string[] = [];
  if (typeof f["quantityDifference"] === "string") {
    const unit = typeof f["unit"] === "string" && f["unit"] !== "" ? ` ${f["unit"]}` : "";
    const diff = f["quantityDifference"];
    details.push(`difference ${diff.startsWith("-") || diff === "0" ? diff : `+${diff}`}${unit}${f["withinTolerance"] === true ? " (within tolerance)" : ""}`);
  }
  if (typeof f["detail"] === "string") details.push(f["detail"]);
  const evidence = f["evidence"];
  const reversals = Array.isArray(evidence) ? evidence.filter((e: unknown) => typeof e === "object" && e !== null && (e as { reversal?: unknown }).reversal === true).length : 0;
  if (reversals > 0) details.push(`${reversals} reversal${reversals === 1 ? "" : "s"} netted`);
  return details;
}
