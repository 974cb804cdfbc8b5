// Public API of @millwright/testing: matchers and builders, which need neither fast-check nor
// vitest. Register the matchers with `import "@millwright/testing/vitest"`; the fast-check
// arbitraries live on `@millwright/testing/arbitraries` so that fast-check is needed only there.
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
