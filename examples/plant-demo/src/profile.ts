/**
 * The plant profile of plant 1710 (profiles/plant-1710.profile.json) applied end to end: every
 * event the story wrote is read back with `parseEvent(line, { profile })`. The shift model travels
 * from SAP's customer field ZZ1_ShiftModel_ORD on the production order, through the SAP adapter's
 * `sap` extension namespace, into every work-order event the SAP and MES systems send.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseEvent } from "@millwright/events";
import { err, loadProfile, ok, type ProfileError, type Result, type WorkOrder } from "@millwright/model";

/** Where the plant 1710 profile lives: the repository's profiles/ folder. */
const PLANT_1710_PROFILE = join(import.meta.dirname, "..", "..", "..", "profiles", "plant-1710.profile.json");

/** What reading the story's events with the plant profile found. */
export interface ProfileReport {
  /** The profile, as `id@version`. */
  readonly profile: string;
  /** Events read with the profile, and how many it accepted. */
  readonly events: number;
  readonly accepted: number;
  /** The profile's issues of every event it rejected, as messages. */
  readonly rejected: readonly string[];
  /** Work-order events of site 1710 (the ones requirement shift-model-at-1710 applies to), and the shift models they carry. */
  readonly workOrders: number;
  readonly shiftModels: readonly string[];
  /**
   * The counter-example: the first work order with its shift model removed. The global contract
   * still accepts it; the profile rejects it, naming the field and the rule.
   */
  readonly withoutShiftModel: { readonly globallyValid: boolean; readonly profileIssue: string | undefined };
}

/**
 * Reads every event line with the plant profile, and shows what the profile adds to the global contract.
 *
 * @param eventLines - the structured events of the story, one JSON text each
 * @param profileDocument - the profile document (parsed JSON)
 * @returns the report, or why the profile could not be loaded
 */
export function checkPlantProfile(eventLines: readonly string[], profileDocument: unknown): Result<ProfileReport, ProfileError> {
  const loaded = loadProfile(profileDocument);
  if (loaded.isErr()) return err(loaded.error);
  const profile = loaded.value;
  let accepted = 0;
  const rejected: string[] = [];
  const shiftModels: string[] = [];
  let workOrders = 0;
  let firstOrder: Record<string, unknown> | undefined;
  for (const line of eventLines) {
    const event = parseEvent(line, { profile });
    if (event.isErr()) {
      rejected.push(event.error.message);
      continue;
    }
    accepted++;
    if (event.value.type.startsWith("dev.millwright.workorder.")) {
      const order = event.value.data as WorkOrder;
      if (order.site.id !== "1710") continue;
      workOrders++;
      shiftModels.push(String(order.extensions?.["sap"]?.["ZZ1_ShiftModel_ORD"]));
      firstOrder ??= JSON.parse(line) as Record<string, unknown>;
    }
  }
  let withoutShiftModel: ProfileReport["withoutShiftModel"] = { globallyValid: false, profileIssue: undefined };
  if (firstOrder !== undefined) {
    const data = firstOrder["data"] as { extensions?: Record<string, Record<string, unknown>> };
    delete data.extensions?.["sap"]?.["ZZ1_ShiftModel_ORD"];
    const profiled = parseEvent(firstOrder, { profile });
    withoutShiftModel = {
      globallyValid: parseEvent(firstOrder).isOk(),
      profileIssue: profiled.isErr() && profiled.error.code === "invalid_data" ? profiled.error.cause.issues[0]?.message : undefined,
    };
  }
  return ok({ profile: profile.name, events: eventLines.length, accepted, rejected, workOrders, shiftModels, withoutShiftModel });
}

/**
 * Loads the plant 1710 profile from the repository.
 *
 * @returns the parsed profile document
 */
export function readPlant1710Profile(): unknown {
  return JSON.parse(readFileSync(PLANT_1710_PROFILE, "utf8")) as unknown;
}
