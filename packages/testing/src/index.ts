// Public API of @millwright/testing: matchers and builders, which need neither fast-check nor
// vitest. Register the matchers with `import "@millwright/testing/vitest"`; the fast-check
// arbitraries live on `@millwright/testing/arbitraries` so that fast-check is needed only there.
export { millwrightMatchers, toBeCanonical, toBeCanonicalEvent, type MatcherResult } from "./matchers.js";
export { buildEntity, type Overrides } from "./builders.js";
// buildWorkOrder, buildBatch, …: one per entity, listed one by one in the generated file.
export * from "./generated/builders.js";
