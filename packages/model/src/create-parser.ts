import { err, ok, type Result } from "neverthrow";
import { issuesFromAjv } from "./ajv-issues.js";
import { createModelError, MAX_ISSUES, type ContractName, type ModelError, type ModelIssue } from "./errors.js";
import { profileIssues } from "./profile-check.js";
import { compiledProfile, type ParseOptions } from "./profile.js";
import type { ValidatorFunction } from "./validator-function.js";

/**
 * A parser of one canonical entity or contract: never throws, returns the value or every issue.
 * With `options.profile` (a plant profile from `loadProfile`), a value the global contract accepts
 * is then checked against the profile too; the profile can only add issues.
 *
 * @example
 * const parse: Parser<Batch> = parseBatch;
 */
export type Parser<TEntity> = (input: unknown, options?: ParseOptions) => Result<TEntity, ModelError>;

/**
 * Builds the parser of one contract from its generated validator and its semantic rules; the
 * generated `parsers.ts` calls it once per schema.
 *
 * @param entity - the contract name, for the error
 * @param validate - the generated ajv validator
 * @param rules - the semantic rules, run on schema-valid input; they push issues
 * @returns the parser
 * @example
 * const parseBatch = createParser("Batch", V.validateBatch, R.batchRules);
 */
export function createParser<TEntity>(
  entity: ContractName,
  validate: ValidatorFunction<TEntity>,
  rules: (value: TEntity, issues: ModelIssue[]) => void,
): Parser<TEntity> {
  return (input, options) => {
    // Read only from an object: `records.map(parseBatch)` passes an index here.
    const profile = typeof options === "object" && options !== null ? options.profile : undefined;
    // Outside the try: a profile not made by loadProfile is a programmer error, not bad input.
    if (profile !== undefined) compiledProfile(profile);
    try {
      // One validator, all errors: on valid input it costs what a fail-fast one does (measured),
      // and on invalid input it lists every issue.
      if (!validate(input)) {
        const { issues, total } = issuesFromAjv(validate.errors ?? [], MAX_ISSUES);
        return err(createModelError(entity, issues, total));
      }
      const issues: ModelIssue[] = [];
      rules(input, issues);
      // A profile runs only on what the global contract accepts: it narrows, it cannot widen.
      if (issues.length === 0 && profile !== undefined && entity !== "WmsEvent" && entity !== "WmsRequest") profileIssues(profile, entity, input, issues);
      return issues.length === 0 ? ok(input) : err(createModelError(entity, issues));
    } catch (cause) {
      // Only exotic inputs get here (getters or proxies that throw); plain JSON data never does.
      const reason = cause instanceof Error ? cause.message : String(cause);
      return err(
        createModelError(entity, [
          {
            code: "unreadable_input",
            path: "",
            rule: "the input is plain JSON data",
            message: `the input could not be read as JSON data: ${reason}`,
          },
        ]),
      );
    }
  };
}

/**
 * The semantic rules of a contract that has none beyond its schema (the WMS contracts).
 *
 * @example
 * const parseWmsEvent = createParser("WmsEvent", V.validateWmsEvent, noRules);
 */
export const noRules = (): void => undefined;
