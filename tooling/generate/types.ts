import { compile } from "json-schema-to-typescript";
import type { SchemaNode } from "./schemas.js";

/**
 * Generates the TypeScript declarations of every bundled schema with json-schema-to-typescript.
 * The bundle is compiled once, so each shared type is declared exactly once.
 */
export async function emitTypes(bundle: SchemaNode, banner: string): Promise<string> {
  const source = await compile(structuredClone(bundle) as never, "CanonicalEntity", {
    bannerComment: banner,
    additionalProperties: false,
    unreachableDefinitions: true,
    strictIndexSignatures: true,
    declareExternallyReferenced: true,
    enableConstEnums: false,
    format: true,
    style: { printWidth: 110, singleQuote: false, trailingComma: "all" },
  });
  return source;
}
