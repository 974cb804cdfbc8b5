import { err, ok, type Result } from "neverthrow";
import { attributeError, type EventAttributeError } from "./errors.js";
import { isUriReference } from "./syntax.js";

/**
 * The parts of a Millwright event `source`, `urn:millwright:<system>:<instance>`: which kind of
 * system produced the event and which installation of it.
 */
export interface MillwrightSource {
  /** The kind of system, lower-case letters and digits: `sap`, `mes`, `wms`, `opcua`. */
  readonly system: string;
  /** The installation, everything after the system's colon as written (it may contain `:`); `""` when there is none. */
  readonly instance: string;
}

const PREFIX = "urn:millwright:";
const SYSTEM = /^[a-z0-9]+$/;

/**
 * Splits a Millwright event `source` (`urn:millwright:<system>` or `urn:millwright:<system>:<instance>`)
 * into its system and instance. The system segment is lower-case letters and digits; the instance is
 * the rest as written. Any other source, including one whose system segment has upper-case letters
 * or other characters, is not a Millwright source.
 *
 * @param source - a CloudEvents `source`
 * @returns the system and the instance, or undefined when the source does not follow the convention
 * @example
 * ```ts
 * parseMillwrightSource("urn:millwright:sap:S4PCLNT100"); // { system: "sap", instance: "S4PCLNT100" }
 * parseMillwrightSource("https://erp.example.com/sap/opu"); // undefined
 * ```
 */
export function parseMillwrightSource(source: string): MillwrightSource | undefined {
  if (!source.startsWith(PREFIX)) return undefined;
  const colon = source.indexOf(":", PREFIX.length);
  const system = colon < 0 ? source.slice(PREFIX.length) : source.slice(PREFIX.length, colon);
  if (!SYSTEM.test(system)) return undefined;
  return { system, instance: colon < 0 ? "" : source.slice(colon + 1) };
}

/**
 * Builds a Millwright event `source`, `urn:millwright:<system>:<instance>` (`urn:millwright:<system>`
 * when the instance is empty), the form {@link parseMillwrightSource} reads back.
 *
 * @param system - the kind of system, lower-case letters and digits, e.g. `sap`
 * @param instance - the installation, e.g. a SAP system and client `S4PCLNT100`; kept as given, so
 *   characters a URI does not allow must come percent-encoded
 * @returns the source, or `invalid_attribute_value` at `/system` or `/instance` naming the rule broken
 * @example
 * ```ts
 * toMillwrightSource("sap", "S4PCLNT100"); // ok("urn:millwright:sap:S4PCLNT100")
 * toMillwrightSource("SAP", "S4PCLNT100"); // err({ code: "invalid_attribute_value", path: "/system", … })
 * ```
 */
export function toMillwrightSource(system: string, instance: string): Result<string, EventAttributeError> {
  if (!SYSTEM.test(system)) {
    return err(attributeError("invalid_attribute_value", "/system", "the system of a Millwright source is lower-case letters and digits", system));
  }
  const source = instance === "" ? `${PREFIX}${system}` : `${PREFIX}${system}:${instance}`;
  // The URI-reference check parseEvent applies to every source: a source built here is accepted on read.
  if (!isUriReference(source)) {
    return err(attributeError("invalid_attribute_value", "/instance", "the instance keeps the source a URI-reference (RFC 3986 §4.1): percent-encode other characters", instance));
  }
  return ok(source);
}
