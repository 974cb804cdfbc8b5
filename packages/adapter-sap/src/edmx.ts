import { XMLParser, XMLValidator } from "fast-xml-parser";
import { err, ok, type Result } from "neverthrow";

/** One property of an EDMX entity type, as SAP's metadata declares it. */
export interface EdmxProperty {
  readonly name: string;
  /** `Edm.String`, `Edm.Decimal`, `Edm.DateTime`, `Edm.Time`, `Edm.Boolean`, `Edm.Guid` … */
  readonly type: string;
  readonly nullable: boolean;
  readonly maxLength?: number;
  readonly precision?: number;
  readonly scale?: number;
  /** `sap:display-format`, e.g. `Date` or `NonNegative`. */
  readonly displayFormat?: string;
}

/** A navigation property and the entity type it leads to. */
export interface EdmxNavigation {
  readonly name: string;
  readonly toType: string;
  readonly many: boolean;
}

/** One entity type: key, properties, navigations. */
export interface EdmxEntityType {
  readonly name: string;
  readonly keys: readonly string[];
  readonly properties: Readonly<Record<string, EdmxProperty>>;
  readonly navigations: Readonly<Record<string, EdmxNavigation>>;
}

/** One entity set and the flags SAP puts on it. */
export interface EdmxEntitySet {
  readonly name: string;
  readonly entityType: string;
  readonly creatable: boolean;
  readonly updatable: boolean;
  readonly deletable: boolean;
}

/** One function import (an action such as `Cancel`) and its parameters, in declaration order. */
export interface EdmxFunctionImport {
  readonly name: string;
  /** `m:HttpMethod`, e.g. `POST`. */
  readonly httpMethod?: string;
  /** The entity set of the returned entity, when it returns one. */
  readonly entitySet?: string;
  /** The return type as declared, e.g. `API_MATERIAL_DOCUMENT_SRV.A_MaterialDocumentHeaderType`. */
  readonly returnType?: string;
  readonly parameters: readonly EdmxProperty[];
}

/** What the adapter needs from one service's `$metadata`. */
export interface EdmxModel {
  readonly namespace: string;
  readonly entityTypes: Readonly<Record<string, EdmxEntityType>>;
  readonly entitySets: Readonly<Record<string, EdmxEntitySet>>;
  readonly functionImports: Readonly<Record<string, EdmxFunctionImport>>;
}

/** Why an EDMX document could not be read. */
export interface EdmxError {
  readonly code: "invalid_edmx";
  readonly path: string;
  readonly message: string;
}

type XmlNode = Record<string, unknown>;

const ARRAYS = new Set(["Schema", "EntityType", "Property", "PropertyRef", "NavigationProperty", "EntitySet", "EntityContainer", "Association", "End", "FunctionImport", "Parameter"]);

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: "@",
  removeNSPrefix: true,
  parseAttributeValue: false,
  isArray: (name) => ARRAYS.has(name),
});

function asArray(value: unknown): readonly XmlNode[] {
  return Array.isArray(value) ? (value as XmlNode[]) : [];
}

function attr(node: XmlNode, name: string): string | undefined {
  const v = node[`@${name}`];
  return typeof v === "string" ? v : undefined;
}

function int(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d+$/.test(value)) return undefined;
  return Number(value);
}

function localName(qualified: string): string {
  const i = qualified.lastIndexOf(".");
  return i < 0 ? qualified : qualified.slice(i + 1);
}

function readProperty(node: XmlNode): EdmxProperty | undefined {
  const name = attr(node, "Name");
  const type = attr(node, "Type");
  if (name === undefined || type === undefined) return undefined;
  const maxLength = int(attr(node, "MaxLength"));
  const precision = int(attr(node, "Precision"));
  const scale = int(attr(node, "Scale"));
  const displayFormat = attr(node, "display-format");
  return {
    name,
    type,
    nullable: attr(node, "Nullable") !== "false",
    ...(maxLength === undefined ? {} : { maxLength }),
    ...(precision === undefined ? {} : { precision }),
    ...(scale === undefined ? {} : { scale }),
    ...(displayFormat === undefined ? {} : { displayFormat }),
  };
}

/**
 * Read an OData V2 EDMX (`$metadata`) document into entity types, entity sets and function imports.
 * OData V4 metadata (`edmx:Edmx Version="4.0"`) is refused: its navigations, actions and types are
 * declared differently, and reading it as V2 would silently miss them.
 *
 * @param xml - the EDMX text as SAP Gateway serves it
 * @returns the model, or `invalid_edmx` when the text is not well-formed OData V2 EDMX
 * @example
 * ```ts
 * const model = parseEdmx(xmlText);
 * if (model.isOk()) console.log(model.value.entitySets["A_ProductionOrder_2"]?.entityType);
 * ```
 */
export function parseEdmx(xml: string): Result<EdmxModel, EdmxError> {
  const valid = XMLValidator.validate(xml);
  if (valid !== true) {
    return err({ code: "invalid_edmx", path: `line ${valid.err.line}`, message: `EDMX is not well-formed XML: ${valid.err.msg}` });
  }
  const doc = parser.parse(xml) as XmlNode;
  const edmx = doc["Edmx"] as XmlNode | undefined;
  if (edmx !== undefined && typeof edmx === "object") {
    const version = attr(edmx, "Version");
    if (version !== undefined && version.startsWith("4.")) {
      return err({
        code: "invalid_edmx",
        path: "/Edmx/@Version",
        message: `OData V4 metadata (edmx:Edmx Version="${version}") is not supported; this adapter targets the OData V2 APIs (API_PRODUCTION_ORDER_2_SRV, API_MATERIAL_DOCUMENT_SRV, API_PROD_ORDER_CONFIRMATION_2_SRV, API_INSPECTIONLOT_SRV), whose $metadata is edmx:Edmx Version="1.0"`,
      });
    }
    if (version !== "1.0") {
      return err({ code: "invalid_edmx", path: "/Edmx/@Version", message: `edmx:Edmx Version is ${version === undefined ? "missing" : `"${version}"`}: OData V2 metadata has Version="1.0"` });
    }
  }
  const services = edmx?.["DataServices"] as XmlNode | undefined;
  const schemas = asArray(services?.["Schema"]);
  const schema = schemas.find((s) => asArray(s["EntityType"]).length > 0) ?? schemas[0];
  const namespace = schema === undefined ? undefined : attr(schema, "Namespace");
  if (schema === undefined || namespace === undefined) {
    return err({ code: "invalid_edmx", path: "/Edmx/DataServices/Schema", message: "EDMX has no Schema with a Namespace" });
  }
  const associations = new Map<string, Map<string, { type: string; many: boolean }>>();
  for (const assoc of asArray(schema["Association"])) {
    const ends = new Map<string, { type: string; many: boolean }>();
    for (const end of asArray(assoc["End"])) {
      const role = attr(end, "Role");
      const type = attr(end, "Type");
      if (role !== undefined && type !== undefined) ends.set(role, { type: localName(type), many: attr(end, "Multiplicity") === "*" });
    }
    const name = attr(assoc, "Name");
    if (name !== undefined) associations.set(name, ends);
  }
  const entityTypes: Record<string, EdmxEntityType> = {};
  for (const node of asArray(schema["EntityType"])) {
    const name = attr(node, "Name");
    if (name === undefined) continue;
    const keyNode = node["Key"] as XmlNode | undefined;
    const keys = asArray(keyNode?.["PropertyRef"]).flatMap((r) => attr(r, "Name") ?? []);
    const properties: Record<string, EdmxProperty> = {};
    for (const p of asArray(node["Property"])) {
      const prop = readProperty(p);
      if (prop !== undefined) properties[prop.name] = prop;
    }
    const navigations: Record<string, EdmxNavigation> = {};
    for (const n of asArray(node["NavigationProperty"])) {
      const navName = attr(n, "Name");
      const rel = attr(n, "Relationship");
      const toRole = attr(n, "ToRole");
      const end = rel === undefined || toRole === undefined ? undefined : associations.get(localName(rel))?.get(toRole);
      if (navName !== undefined && end !== undefined) navigations[navName] = { name: navName, toType: end.type, many: end.many };
    }
    entityTypes[name] = { name, keys, properties, navigations };
  }
  const entitySets: Record<string, EdmxEntitySet> = {};
  const functionImports: Record<string, EdmxFunctionImport> = {};
  for (const container of asArray(schema["EntityContainer"])) {
    for (const fn of asArray(container["FunctionImport"])) {
      const name = attr(fn, "Name");
      if (name === undefined) continue;
      const httpMethod = attr(fn, "HttpMethod");
      const entitySet = attr(fn, "EntitySet");
      const returnType = attr(fn, "ReturnType");
      functionImports[name] = {
        name,
        ...(httpMethod === undefined ? {} : { httpMethod }),
        ...(entitySet === undefined ? {} : { entitySet }),
        ...(returnType === undefined ? {} : { returnType }),
        parameters: asArray(fn["Parameter"]).flatMap((p) => readProperty(p) ?? []),
      };
    }
    for (const set of asArray(container["EntitySet"])) {
      const name = attr(set, "Name");
      const type = attr(set, "EntityType");
      if (name === undefined || type === undefined) continue;
      entitySets[name] = {
        name,
        entityType: localName(type),
        creatable: attr(set, "creatable") !== "false",
        updatable: attr(set, "updatable") !== "false",
        deletable: attr(set, "deletable") !== "false",
      };
    }
  }
  return ok({ namespace, entityTypes, entitySets, functionImports });
}

/**
 * Look up the entity type behind an entity set.
 *
 * @param model - a parsed EDMX model
 * @param entitySet - the entity set name, e.g. `ProdnOrdConf2`
 * @returns the entity type, or undefined when the set is not in the model
 * @example
 * ```ts
 * const type = entityTypeOf(model, "ProdnOrdConf2");
 * ```
 */
export function entityTypeOf(model: EdmxModel, entitySet: string): EdmxEntityType | undefined {
  const set = model.entitySets[entitySet];
  return set === undefined ? undefined : model.entityTypes[set.entityType];
}
