// Public API of @millwright/testing. Register the matchers with `import "@millwright/testing/vitest"`.
export { millwrightMatchers, toBeCanonical, toBeCanonicalEvent, type MatcherResult } from "./matchers.js";
export {
  buildAlignment,
  buildBatch,
  buildEntity,
  buildMachineState,
  buildMaterialMovement,
  buildProductionConfirmation,
  buildProductionCount,
  buildQualityHold,
  buildWorkOrder,
  type Overrides,
} from "./builders.js";
export {
  alignment,
  batch,
  decimal,
  entity,
  event,
  identifier,
  interval,
  machineState,
  materialMovement,
  productionConfirmation,
  productionCount,
  qualityHold,
  timestamp,
  unit,
  workOrder,
} from "./arbitraries.js";
