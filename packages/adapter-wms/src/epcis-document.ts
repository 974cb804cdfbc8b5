// Reading an EPCIS 2.0 document (JSON / JSON-LD capture or query format) into its event list.
import { err, ok, type Result } from "neverthrow";
import { epcisHashOptions, type EpcisHashOptions } from "./epcis-hash.js";

/** Why a document could not be read as an EPCIS 2.0 document. */
export interface EpcisDocumentError {
  readonly code: "unreadable_document" | "invalid_document";
  /** JSON Pointer into the document. */
  readonly path: string;
  readonly message: string;
  readonly value?: unknown;
}

/** The events of an EPCIS document and what is needed to read them. */
export interface EpcisEventList {
  /** The events, as found, with the JSON Pointer of each in the document. */
  readonly events: readonly { readonly event: unknown; readonly path: string }[];
  /** The namespace prefixes and ignored fields, for the event hash. */
  readonly hashOptions: EpcisHashOptions;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/**
 * Reads an EPCIS 2.0 document, from JSON text or parsed JSON: a capture document
 * (`epcisBody.eventList`), a query document (`epcisBody.queryResults.resultsBody.eventList`) or a
 * single event (`epcisBody.event`). A leading UTF-8 byte order mark is skipped.
 *
 * @param input - the document as text or as parsed JSON
 * @returns the events with their paths and the document's hash options, or why it is not one
 * @example
 * const list = readEpcisDocument(text);
 * if (list.isOk()) console.log(list.value.events.length);
 */
export function readEpcisDocument(input: unknown): Result<EpcisEventList, EpcisDocumentError> {
  let document = input;
  if (typeof input === "string" || input instanceof Uint8Array) {
    try {
      // A leading byte order mark is an encoding signature, not content: TextDecoder drops it from
      // bytes, and text read without a decoder that does (fs.readFile with "utf8") still has it.
      const text = typeof input === "string" ? input : new TextDecoder("utf-8", { fatal: true }).decode(input);
      document = JSON.parse(text.startsWith("\uFEFF") ? text.slice(1) : text);
    } catch (cause) {
      return err({ code: "unreadable_document", path: "", message: `the document is not JSON: ${(cause as Error).message}` });
    }
  }
  if (!isRecord(document)) {
    return err({ code: "invalid_document", path: "", message: "an EPCIS document must be a JSON object", value: document });
  }
  const type = document["type"];
  if (type !== "EPCISDocument" && type !== "EPCISQueryDocument") {
    return err({
      code: "invalid_document",
      path: "/type",
      message: `/type must be "EPCISDocument" or "EPCISQueryDocument", got ${JSON.stringify(type) ?? "nothing"}`,
      value: type,
    });
  }
  const body = document["epcisBody"];
  if (!isRecord(body)) {
    return err({ code: "invalid_document", path: "/epcisBody", message: "/epcisBody must be an object", value: body });
  }
  let list: unknown;
  let path: string;
  const results = body["queryResults"];
  if (body["eventList"] !== undefined) {
    list = body["eventList"];
    path = "/epcisBody/eventList";
  } else if (isRecord(results) && isRecord(results["resultsBody"])) {
    list = results["resultsBody"]["eventList"];
    path = "/epcisBody/queryResults/resultsBody/eventList";
  } else if (body["event"] !== undefined) {
    return ok({ events: [{ event: body["event"], path: "/epcisBody/event" }], hashOptions: epcisHashOptions(document) });
  } else {
    return err({ code: "invalid_document", path: "/epcisBody", message: "/epcisBody has no eventList, queryResults or event", value: body });
  }
  if (!Array.isArray(list)) {
    return err({ code: "invalid_document", path, message: `${path} must be an array`, value: list });
  }
  return ok({
    events: list.map((event: unknown, i) => ({ event, path: `${path}/${i}` })),
    hashOptions: epcisHashOptions(document),
  });
}
