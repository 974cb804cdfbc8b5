// `import "@millwright/testing/vitest"` in a vitest setup file registers the matchers and their types.
import type { EntityName, EventType } from "@millwright/model";
import { expect } from "vitest";
import { millwrightMatchers } from "./matchers.js";

expect.extend(millwrightMatchers);

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- must match vitest's own declaration
declare module "vitest" {
  interface Matchers<T = any> {
    /** Passes when the value is a valid canonical entity of the named kind. */
    toBeCanonical(entity: EntityName): T;
    /** Passes when the value is a valid canonical CloudEvent (of the given type, when named). */
    toBeCanonicalEvent(type?: EventType): T;
  }
}

export { millwrightMatchers } from "./matchers.js";
