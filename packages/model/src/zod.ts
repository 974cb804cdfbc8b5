// Public API of @millwright/model/zod: zod 4 schemas of every canonical type, for composing in
// users' own zod code. The hot path (parseX) uses the ajv validators; these agree with them (see
// zod.test.ts for the differential test and the documented differences).
// The list itself is generated (generated/zod-public.ts names each schema); the star re-exports exactly it.
export * from "./generated/zod-public.js";
