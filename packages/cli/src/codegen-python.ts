import { commentLines, resolveAlias, uniqueNames, words, type CodeModel, type Declaration, type TypeRef } from "./codegen-model.js";

// Python: one dataclass per object with `from_dict` (checks types and refuses unknown keys) and
// `to_dict` (leaves out absent optional properties), a Literal type per value set, and aliases for
// the contract's named scalars (`Decimal = str`). Attributes are snake_case; JSON keys stay exact.
// The module passes `mypy --strict`.

const KEYWORDS = new Set(
  "False None True and as assert async await break class continue def del elif else except finally for from global if import in is lambda nonlocal not or pass raise return try while with yield match case type from_dict to_dict".split(" "),
);

function attributeName(name: string): string {
  const snake = words(name).join("_");
  const safe = snake === "" ? "field" : /^[0-9]/.test(snake) ? `v_${snake}` : snake;
  return KEYWORDS.has(safe) ? `${safe}_` : safe;
}

function pyType(type: TypeRef): string {
  switch (type.kind) {
    case "string":
      return "str";
    case "integer":
      return "int";
    case "number":
      return "float";
    case "boolean":
      return "bool";
    case "any":
      return "Any";
    case "named":
      return type.name;
    case "array":
      return `List[${pyType(type.items)}]`;
    case "map":
      return `Dict[str, ${pyType(type.values)}]`;
  }
}

/** A Python list literal of strings, spaced as PEP 8 writes it. */
const pyList = (values: readonly string[]): string => `[${values.map((v) => JSON.stringify(v)).join(", ")}]`;

const constName = (name: string): string => `_${words(name).join("_").toUpperCase()}_VALUES`;

/** The expression that reads `expr` (a JSON value) as `type`; `where` names the place in errors. */
function reader(model: CodeModel, type: TypeRef, expr: string, where: string, depth: number): string {
  const t = type.kind === "named" && model.declarations.get(type.name)?.kind === "alias" ? resolveAlias(model, type) : type;
  switch (t.kind) {
    case "string":
      return `_str(${expr}, ${where})`;
    case "integer":
      return `_int(${expr}, ${where})`;
    case "number":
      return `_float(${expr}, ${where})`;
    case "boolean":
      return `_bool(${expr}, ${where})`;
    case "any":
      return expr;
    case "named": {
      const decl = model.declarations.get(t.name);
      if (decl?.kind === "enum") return `cast(${t.name}, _enum(${expr}, ${constName(t.name)}, ${where}))`;
      return `${t.name}.from_dict(_obj(${expr}, ${where}))`;
    }
    case "array": {
      const v = `v${depth}`;
      return `[${reader(model, t.items, v, where, depth + 1)} for ${v} in _list(${expr}, ${where})]`;
    }
    case "map": {
      const k = `k${depth}`;
      const v = `v${depth}`;
      return `{${k}: ${reader(model, t.values, v, where, depth + 1)} for ${k}, ${v} in _obj(${expr}, ${where}).items()}`;
    }
  }
}

/** The expression that writes `expr` (of `type`) as a JSON value. */
function writer(model: CodeModel, type: TypeRef, expr: string, depth: number): string {
  const t = type.kind === "named" && model.declarations.get(type.name)?.kind === "alias" ? resolveAlias(model, type) : type;
  switch (t.kind) {
    case "named":
      return model.declarations.get(t.name)?.kind === "object" ? `${expr}.to_dict()` : expr;
    case "array": {
      const v = `v${depth}`;
      const inner = writer(model, t.items, v, depth + 1);
      return inner === v ? `list(${expr})` : `[${inner} for ${v} in ${expr}]`;
    }
    case "map": {
      const k = `k${depth}`;
      const v = `v${depth}`;
      const inner = writer(model, t.values, v, depth + 1);
      return inner === v ? `dict(${expr})` : `{${k}: ${inner} for ${k}, ${v} in ${expr}.items()}`;
    }
    default:
      return expr;
  }
}

function comment(lines: readonly string[], indent: string): string[] {
  return lines.map((l) => (l === "" ? `${indent}#` : `${indent}# ${l}`));
}

function emitClass(model: CodeModel, decl: Extract<Declaration, { kind: "object" }>): string[] {
  const names = uniqueNames(decl.properties.map((p) => p.name), attributeName);
  const doc = commentLines(decl.description);
  if (decl.union !== undefined) doc.push("", `One of ${decl.union.join(", ")}, as one class: a field is required only when every variant requires it.`);
  const keys = `_${words(decl.name).join("_").toUpperCase()}_KEYS`;
  const lines = [...comment(doc, ""), "@dataclass(kw_only=True)", `class ${decl.name}:`];
  decl.properties.forEach((p, i) => {
    lines.push(...comment(commentLines(p.description), "    "));
    lines.push(p.required ? `    ${names[i]}: ${pyType(p.type)}` : `    ${names[i]}: Optional[${pyType(p.type)}] = None`);
  });
  if (decl.properties.length === 0) lines.push("    pass");
  lines.push("", "    @classmethod", `    def from_dict(cls, data: Mapping[str, Any]) -> ${decl.name}:`);
  lines.push(`        """Reads a ${decl.name} from parsed JSON; raises ContractError (a ValueError) naming the key for anything the contract does not allow."""`);
  lines.push(`        _check_keys(data, ${keys}, ${pyList(decl.properties.filter((p) => p.required).map((p) => p.name))}, ${JSON.stringify(decl.name)})`);
  lines.push("        return cls(");
  decl.properties.forEach((p, i) => {
    const key = JSON.stringify(p.name);
    const where = JSON.stringify(`${decl.name}.${p.name}`);
    const read = reader(model, p.type, `data[${key}]`, where, 0);
    lines.push(p.required ? `            ${names[i]}=${read},` : `            ${names[i]}=${read} if ${key} in data else None,`);
  });
  lines.push("        )", "", "    def to_dict(self) -> Dict[str, Any]:", `        """This ${decl.name} as JSON-ready data, without the optional keys that are None."""`, "        out: Dict[str, Any] = {}");
  decl.properties.forEach((p, i) => {
    const key = JSON.stringify(p.name);
    const value = writer(model, p.type, `self.${names[i]}`, 0);
    if (p.required) lines.push(`        out[${key}] = ${value}`);
    else lines.push(`        if self.${names[i]} is not None:`, `            out[${key}] = ${value}`);
  });
  lines.push("        return out");
  return [`${keys} = frozenset(${pyList(decl.properties.map((p) => p.name))})`, "", "", ...lines];
}

const HELPERS = `
class ContractError(ValueError):
    """A value that does not fit the contract's type: names the place (Type.property) and the rule."""


def _fail(where: str, rule: str, value: object) -> ContractError:
    return ContractError(f"{where}: {rule}, got {value!r:.200}")


def _str(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise _fail(where, "must be a string", value)
    return value


def _int(value: object, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(where, "must be an integer", value)
    return value


def _float(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _fail(where, "must be a number", value)
    return value


def _bool(value: object, where: str) -> bool:
    if not isinstance(value, bool):
        raise _fail(where, "must be true or false", value)
    return value


def _list(value: object, where: str) -> List[Any]:
    if not isinstance(value, list):
        raise _fail(where, "must be an array", value)
    return value


def _obj(value: object, where: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise _fail(where, "must be an object", value)
    return value


def _enum(value: object, allowed: FrozenSet[str], where: str) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise _fail(where, f"must be one of {sorted(allowed)}", value)
    return value


def _check_keys(data: Mapping[str, Any], known: FrozenSet[str], required: List[str], where: str) -> None:
    for key in data:
        if key not in known:
            raise _fail(f"{where}.{key}", "is not a property of the contract", data[key])
    for key in required:
        if key not in data:
            raise _fail(f"{where}.{key}", "is required", None)
`;

/**
 * Writes one Python module.
 *
 * @param model - the declarations
 * @param banner - the "generated, do not edit" line
 * @returns the file `millwright.py`
 */
export function emitPython(model: CodeModel, banner: string): { path: string; content: string }[] {
  const out = [
    `# ${banner}`,
    "from __future__ import annotations",
    "",
    "from dataclasses import dataclass",
    "from typing import Any, Dict, FrozenSet, List, Literal, Mapping, Optional, cast",
    HELPERS,
  ];
  // Aliases and value sets first: dataclass annotations are strings, but alias assignments are not.
  const ordered = [...model.declarations.values()].sort((a, b) => Number(a.kind === "object") - Number(b.kind === "object"));
  const aliasesLast = ordered.filter((d) => d.kind === "alias" && d.target.kind !== "named");
  for (const decl of ordered) {
    if (decl.kind === "alias" && !aliasesLast.includes(decl)) continue;
    out.push("");
    if (decl.kind === "enum") {
      out.push(...comment(commentLines(decl.description), ""), `${decl.name} = Literal[${decl.values.map((v) => JSON.stringify(v)).join(", ")}]`);
      out.push(`${constName(decl.name)}: FrozenSet[str] = frozenset(${pyList(decl.values)})`);
    } else if (decl.kind === "alias") {
      out.push(...comment(commentLines(decl.description), ""), `${decl.name} = ${pyType(decl.target)}`);
    } else {
      out.push("", ...emitClass(model, decl));
    }
  }
  // Aliases of other names come after what they name.
  for (const decl of ordered) {
    if (decl.kind === "alias" && !aliasesLast.includes(decl)) out.push("", ...comment(commentLines(decl.description), ""), `${decl.name} = ${pyType(decl.target)}`);
  }
  return [{ path: "millwright.py", content: `${out.join("\n")}\n` }];
}
