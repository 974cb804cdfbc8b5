import { MILLWRIGHT_NAMESPACE, uuidV5 } from "@millwright/events";
import type { Finding } from "./finding.js";

/** The CloudEvents types an alignment record would carry once the schemas define them. */
export type AlignmentRecordType = "dev.millwright.alignment.breached.v1" | "dev.millwright.alignment.resolved.v1";

/**
 * A finding shaped like a canonical CloudEvent. Not a `CanonicalEvent`: its types are not in the
 * event catalog yet.
 */
export interface AlignmentRecord {
  readonly specversion: "1.0";
  readonly id: string;
  readonly source: string;
  readonly type: AlignmentRecordType;
  /** `<rule>/<key>`. */
  readonly subject: string;
  /** The evaluation time of the finding. */
  readonly time: string;
  readonly datacontenttype: "application/json";
  readonly partitionkey: string;
  readonly data: Finding;
}

/**
 * Wraps a finding as a canonical-looking record. The id is UUIDv5 of type, source, rule, key
 * and due time, so evaluating or replaying again gives the same id and consumers can deduplicate.
 *
 * @param finding - the finding
 * @param source - the URI-reference naming this monitor, such as `urn:millwright:alignment:plant-1710`
 * @returns the record
 * @example
 * engine.evaluate(Date.now()).map((f) => toAlignmentRecord(f, "urn:millwright:alignment:plant-1710"));
 */
export function toAlignmentRecord(finding: Finding, source: string): AlignmentRecord {
  const type: AlignmentRecordType = finding.kind === "breached" ? "dev.millwright.alignment.breached.v1" : "dev.millwright.alignment.resolved.v1";
  return {
    specversion: "1.0",
    id: uuidV5(MILLWRIGHT_NAMESPACE, [type, source, finding.rule, finding.key, finding.dueAt].join("\u0000")),
    source,
    type,
    subject: `${finding.rule}/${finding.key}`,
    time: finding.at,
    datacontenttype: "application/json",
    partitionkey: `${finding.rule}/${finding.key}`,
    data: finding,
  };
}
