// Public API of @millwright/adapter-kit. Explicit named exports only: what is not listed here is internal.
export { boundedText, issue, preview, type Issue } from "./issue.js";
export { isPlainData, ReaderFailure, runMapper, type RunMapperOptions } from "./mapper.js";
export { FieldReader, type FieldIssueCode, type FieldRules } from "./field-reader.js";
export { parseDecimal } from "./decimal.js";
export { composeTimestamp, formatTimestamp, isTimeZone, localToUtc } from "./time-zone.js";
export { readBody, type BodyRead } from "./http-body.js";
