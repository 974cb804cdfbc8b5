/** One error as ajv reports it (the subset of ajv's `ErrorObject` the model reads). */
export interface AjvErrorObject {
  readonly keyword: string;
  readonly instancePath: string;
  readonly schemaPath: string;
  readonly params: Readonly<Record<string, unknown>>;
  readonly message?: string;
  readonly schema?: unknown;
  readonly data?: unknown;
}

/** A generated ajv standalone validator: a type guard that leaves its errors on itself. */
export interface ValidatorFunction<T> {
  (data: unknown): data is T;
  errors?: AjvErrorObject[] | null;
}
