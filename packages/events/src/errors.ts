import type { ModelError } from "@millwright/model";

/** Why an envelope, a message or an input to {@link createEvent} was rejected (every code but `invalid_data`). */
export type EventErrorCode =
  /** The input is not text, not UTF-8, not JSON, or not a JSON object. */
  | "unreadable_input"
  /** An attribute (JSON member or header) occurs more than once. */
  | "duplicate_attribute"
  /**
   * A member name occurs twice in one object of the data (at any depth; names compared after
   * unescaping), which parsers resolve differently. `path` points at the second occurrence, or
   * at an ancestor when that pointer would be longer than 1024 characters; `value` is the name,
   * cut to 64 characters.
   */
  | "duplicate_member"
  /** An attribute name is not `^[a-z0-9]+$`. */
  | "invalid_attribute_name"
  /** An attribute is named `data`, which the specification reserves. */
  | "reserved_attribute_name"
  /** A required attribute (id, source, specversion, type) or the data is absent. */
  | "missing_attribute"
  /** An attribute value is not of its CloudEvents type (Boolean, Integer, String …). */
  | "invalid_attribute_type"
  /** An Integer attribute is outside the signed 32-bit range. */
  | "out_of_range"
  /** A String attribute contains a control character, a noncharacter or a lone surrogate. */
  | "invalid_character"
  /** An attribute value breaks the syntax of its type or attribute (URI, RFC 3339, media type, traceparent …). */
  | "invalid_attribute_value"
  /** `specversion` is not exactly "1.0". */
  | "unsupported_specversion"
  /** Both `data` and `data_base64` are present. */
  | "conflicting_data"
  /** The data is not JSON (`datacontenttype` is not `application/json` or `*\/*+json`). */
  | "unsupported_content_type"
  /** The type is not in the catalog. */
  | "unknown_event_type"
  /** The type is in the catalog, but not in this major version. */
  | "unknown_event_version"
  /** An attribute contradicts the catalog or the data (dataschema, sequence, partitionkey, revision). */
  | "inconsistent_attribute"
  /** A transport message is malformed for its binding (mode, headers, encoding). */
  | "invalid_message";

/** An envelope-level error: where, which rule, and the offending value. */
export interface EventAttributeError {
  readonly code: EventErrorCode;
  /** A JSON Pointer to the attribute (`/subject`), or to the message part (`/headers/ce-id`); `""` is the input itself. */
  readonly path: string;
  /** The rule broken, in words. */
  readonly rule: string;
  /** A sentence for people, naming the path, the value and the rule. */
  readonly message: string;
  /** The offending value, when there is one. */
  readonly value?: unknown;
}

/** The data of the event is not valid for its type: `cause` lists every issue the model found. */
export interface EventDataError {
  readonly code: "invalid_data";
  readonly path: string;
  readonly rule: string;
  readonly message: string;
  readonly cause: ModelError;
}

/** Why an event could not be created or read. Discriminated on `code`. */
export type EventError = EventAttributeError | EventDataError;

/** Renders a value for a message: JSON when short, cut with an ellipsis when long. */
function preview(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = Object.prototype.toString.call(value);
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** Builds an envelope error; the message names path, value and rule. */
export function attributeError(code: EventErrorCode, path: string, rule: string, value?: unknown): EventAttributeError {
  const where = path === "" ? "the input" : path;
  const shown = value === undefined ? "" : ` (got ${preview(value)})`;
  const message = `${where}: ${rule}${shown}`;
  return value === undefined ? { code, path, rule, message } : { code, path, rule, message, value };
}

/** Builds the error for data the catalog rejects. */
export function dataError(type: string, cause: ModelError): EventDataError {
  const rule = `the data of ${type} is a valid ${cause.entity}`;
  return { code: "invalid_data", path: "/data", rule, message: `/data: ${cause.message}`, cause };
}
