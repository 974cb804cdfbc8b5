import { err, ok, type Result } from "neverthrow";
import { issuesFromAjv } from "./ajv-issues.js";
import { createModelError, type ContractName, type ModelError, type ModelIssue } from "./errors.js";
import type { EntityName } from "./generated/catalog.js";
import type * as T from "./generated/types.js";
import * as V from "./generated/validators.js";
import * as R from "./rules.js";
import type { ValidatorFunction } from "./validator-function.js";

/** A parser of one canonical entity. */
export type Parser<TEntity> = (input: unknown) => Result<TEntity, ModelError>;

function createParser<TEntity>(
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
 * Checks that an unknown value is a valid {@link T.WorkOrder}: the schema, then the semantic rules
 * (schedules in order, non-negative quantities in consistent units, unique operation and component
 * keys, components referring to existing operations). Never throws. The input is returned as is,
 * not copied: do not mutate it afterwards.
 *
 * @param input - any value, typically from `JSON.parse`
 * @returns the work order, or every issue found, each with its code, JSON Pointer, value and rule
 * @example
 * const result = parseWorkOrder(JSON.parse(body));
 * if (result.isErr()) for (const issue of result.error.issues) console.error(issue.message);
 */
export const parseWorkOrder: Parser<T.WorkOrder> = createParser("WorkOrder", V.validateWorkOrder, R.workOrderRules);

/**
 * Checks that an unknown value is a valid {@link T.Batch}: the schema, then the semantic rules
 * (expiry not before manufacture, non-negative quantities, no lot listed as its own input). Never throws.
 *
 * @param input - any value
 * @returns the batch, or every issue found
 * @example
 * parseBatch(record).map((batch) => batch.disposition);
 */
export const parseBatch: Parser<T.Batch> = createParser("Batch", V.validateBatch, R.batchRules);

/**
 * Checks that an unknown value is a valid {@link T.MaterialMovement}: the schema, then the semantic
 * rules (a positive quantity; from and to as the kind requires; direction exactly for adjustments;
 * no movement reversing itself). Never throws.
 *
 * @param input - any value
 * @returns the movement, or every issue found
 * @example
 * parseMaterialMovement(record).map((m) => m.kind);
 */
export const parseMaterialMovement: Parser<T.MaterialMovement> = createParser("MaterialMovement", V.validateMaterialMovement,
  R.materialMovementRules,
);

/**
 * Checks that an unknown value is a valid {@link T.QualityHold}: the schema, then the semantic rules
 * (a disposition exactly when released or rejected, consistent with the status, decided not before
 * the hold was placed). Never throws.
 *
 * @param input - any value
 * @returns the hold, or every issue found
 * @example
 * parseQualityHold(record).map((hold) => hold.scope.kind);
 */
export const parseQualityHold: Parser<T.QualityHold> = createParser("QualityHold", V.validateQualityHold, R.qualityHoldRules);

/**
 * Checks that an unknown value is a valid {@link T.ProductionConfirmation}: the schema, then the
 * semantic rules (yield, scrap and rework in one unit, execution end not before start). Never throws.
 *
 * @param input - any value
 * @returns the confirmation, or every issue found
 * @example
 * parseProductionConfirmation(record).map((c) => c.yieldQuantity);
 */
export const parseProductionConfirmation: Parser<T.ProductionConfirmation> = createParser("ProductionConfirmation", V.validateProductionConfirmation,
  R.productionConfirmationRules,
);

/**
 * Checks that an unknown value is a valid {@link T.MachineState}: the schema, then the semantic rule
 * that the PackML state and the availability agree. Never throws.
 *
 * @param input - any value
 * @returns the machine state, or every issue found
 * @example
 * parseMachineState(record).map((s) => s.availability);
 */
export const parseMachineState: Parser<T.MachineState> = createParser("MachineState", V.validateMachineState, R.machineStateRules);

/**
 * Checks that an unknown value is a valid {@link T.ProductionCount}: the schema, then the semantic
 * rules (good and defective in one unit, window end not before start, counters that only fall on a
 * reset or rollover). Never throws.
 *
 * @param input - any value
 * @returns the count, or every issue found
 * @example
 * parseProductionCount(record).map((c) => c.goodQuantity.value);
 */
export const parseProductionCount: Parser<T.ProductionCount> = createParser("ProductionCount", V.validateProductionCount,
  R.productionCountRules,
);

/**
 * Checks that an unknown value is a valid {@link T.Alignment} (a finding of the alignment
 * monitor): the schema, then the semantic rules (a breach has reasons, a resolution says how it
 * ended, a quantity difference has its unit). Never throws.
 *
 * @param input - any value
 * @returns the finding, or every issue found
 * @example
 * parseAlignment(event.data).map((f) => `${f.rule} ${f.key} ${f.kind}`);
 */
export const parseAlignment: Parser<T.Alignment> = createParser("Alignment", V.validateAlignment, R.alignmentRules);

const noRules = (): void => undefined;

/**
 * Checks an unknown value against the generic WMS event contract (`schemas/wms/wms-event.schema.json`):
 * a confirmed stock movement reported by a warehouse system, with the places its type requires.
 * Never throws.
 *
 * @param input - any value, typically a vendor payload after its mapping
 * @returns the WMS event, or every issue found
 * @example
 * parseWmsEvent(mapped).map((e) => e.type);
 */
export const parseWmsEvent: Parser<T.WmsEvent> = createParser("WmsEvent", V.validateWmsEvent, noRules);

/**
 * Checks an unknown value against the generic WMS request contract (`schemas/wms/wms-request.schema.json`):
 * a staging request, or a block / unblock for a quality hold. Never throws.
 *
 * @param input - any value
 * @returns the WMS request, or every issue found
 * @example
 * parseWmsRequest(request).map((r) => r.type);
 */
export const parseWmsRequest: Parser<T.WmsRequest> = createParser("WmsRequest", V.validateWmsRequest, noRules);

/** Maps each entity name to its type. */
export interface EntityTypeMap {
  WorkOrder: T.WorkOrder;
  Batch: T.Batch;
  MaterialMovement: T.MaterialMovement;
  QualityHold: T.QualityHold;
  ProductionConfirmation: T.ProductionConfirmation;
  MachineState: T.MachineState;
  ProductionCount: T.ProductionCount;
  Alignment: T.Alignment;
}

const PARSERS: { readonly [K in EntityName]: Parser<EntityTypeMap[K]> } = {
  WorkOrder: parseWorkOrder,
  Batch: parseBatch,
  MaterialMovement: parseMaterialMovement,
  QualityHold: parseQualityHold,
  ProductionConfirmation: parseProductionConfirmation,
  MachineState: parseMachineState,
  ProductionCount: parseProductionCount,
  Alignment: parseAlignment,
};

/**
 * Parses an unknown value as the named entity; the same as calling that entity's `parseX`.
 *
 * @param name - the entity name, such as "WorkOrder"
 * @param input - any value
 * @returns the entity, or every issue found
 * @example
 * parseEntity("Batch", record);
 */
export function parseEntity<K extends EntityName>(name: K, input: unknown): Result<EntityTypeMap[K], ModelError> {
  const parser = PARSERS[name] as Parser<EntityTypeMap[K]> | undefined;
  if (parser === undefined) throw new TypeError(`parseEntity: unknown entity name ${JSON.stringify(name)}`);
  return parser(input);
}
