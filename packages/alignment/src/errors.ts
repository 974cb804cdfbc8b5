/** Why the engine could not take an event. */
export interface AlignmentError {
  readonly code: "missing_time" | "invalid_time";
  /** JSON Pointer of the offending attribute. */
  readonly path: string;
  readonly message: string;
  /** The offending value. */
  readonly value?: unknown;
}
