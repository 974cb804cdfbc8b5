import { err, ok, type Result } from "neverthrow";
import { issuesFromAjv } from "./ajv-issues.js";
import { createModelError, type ContractName, type ModelError, type ModelIssue } from "./errors.js";
import type { ValidatorFunction } from "./validator-function.js";

/**
 * A parser of one canonical entity or contract: never throws, returns the value or every issue.
 *
 * @example
 * const parse: Parser<Batch> = parseBatch;
 */
export type Parser<TEntity> = (input: unknown) => Result<TEntity, ModelError>;

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
  return (input) => {
    try {
      // One validator, all errors: on valid input it costs what a fail-fast one does (measured),
      // and on invalid input it lists every issue.
      if (!validate(input)) return err(createModelError(entity, issuesFromAjv(validate.errors ?? [])));
      const issues: ModelIssue[] = [];
      rules(input, issues);
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
