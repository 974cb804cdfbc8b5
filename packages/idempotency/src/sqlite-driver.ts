// The one SQLite driver layer of Millwright: the database shape every SQLite store takes, and how
// a database is opened on better-sqlite3 12 (an optional peer dependency) or Node's built-in
// `node:sqlite`. Public through `@millwright/idempotency/sqlite`.
import { createRequire } from "node:module";
import { err, ok, type Result } from "neverthrow";
import { describeValue } from "./errors.js";

/**
 * The part of a statement the SQLite stores use: better-sqlite3's `Statement` or node:sqlite's
 * `StatementSync`. Parameters are positional (`?`) or one object of named ones (`@name`).
 */
export interface SqliteStatement {
  run(...params: unknown[]): { readonly changes: number | bigint };
  all(...params: unknown[]): unknown[];
}

/**
 * The part of a database the SQLite stores use; pass the database itself: a better-sqlite3
 * `Database` (which says `inTransaction`) or a node:sqlite `DatabaseSync` (which says `isTransaction`).
 */
export interface SqliteDatabase {
  prepare(sql: string): SqliteStatement;
  exec(sql: string): unknown;
  readonly inTransaction?: boolean;
  readonly isTransaction?: boolean;
}

/** A statement of a database {@link openSqliteDatabase} opened: both drivers also read one row with `get`. */
export interface OpenedSqliteStatement extends SqliteStatement {
  /** The first row, or `undefined` when there is none. */
  get(...params: unknown[]): unknown;
}

/** A database {@link openSqliteDatabase} opened: the driver's own database object, the caller's to close. */
export interface OpenedSqliteDatabase extends SqliteDatabase {
  prepare(sql: string): OpenedSqliteStatement;
  close(): void;
}

/** The SQLite drivers Millwright runs on, in the order {@link openSqliteDatabase} tries them. */
export type SqliteDriverName = "better-sqlite3" | "node:sqlite";

const DRIVERS: readonly SqliteDriverName[] = ["better-sqlite3", "node:sqlite"];

/** How {@link openSqliteDatabase} opens a database. */
export interface OpenSqliteOptions {
  /** The driver to use; by default better-sqlite3 when its addon loads on this Node, else node:sqlite. */
  readonly driver?: SqliteDriverName;
}

/** Why {@link openSqliteDatabase} opened no database, discriminated on `code`. */
export type SqliteOpenError =
  | {
      /** No driver asked for (or, by default, neither) loads on this Node. */
      readonly code: "sqlite_driver_unavailable";
      readonly message: string;
      /** Each driver tried, with why it did not load. */
      readonly tried: readonly { readonly driver: SqliteDriverName; readonly cause: unknown }[];
    }
  | {
      /** The driver loaded but refused the file (a missing folder, no permission, not a database). */
      readonly code: "sqlite_open_failed";
      readonly message: string;
      readonly driver: SqliteDriverName;
      readonly file: string;
      readonly cause: unknown;
    };

type Constructor = new (file: string) => OpenedSqliteDatabase;

// A `require` made for this module, so that the optional peer is resolved from this package, not
// from the caller's folder. Not `typeof require === "function" ? require : …`: the bundler turns
// `require` in the ESM build into a shim that is a function and throws "Dynamic require … is not
// supported" (tooling/smoke checks both builds open a database). `__filename` exists only in the
// CommonJS build, where `import.meta.url` is empty.
function requireHere(id: string): unknown {
  return createRequire(typeof __filename === "string" ? __filename : import.meta.url)(id);
}

// What each driver's loading came to, once per process: the constructor, or why it did not load.
const loaded = new Map<SqliteDriverName, { readonly open: Constructor } | { readonly cause: unknown }>();

function load(driver: SqliteDriverName): { readonly open: Constructor } | { readonly cause: unknown } {
  const known = loaded.get(driver);
  if (known !== undefined) return known;
  let outcome: { readonly open: Constructor } | { readonly cause: unknown };
  try {
    if (driver === "better-sqlite3") {
      const exported = requireHere("better-sqlite3") as Constructor | { readonly default: Constructor };
      const open = typeof exported === "function" ? exported : exported.default;
      // The native addon loads with the first database, not with the module: a build for another
      // Node ABI fails here, and node:sqlite can stand in.
      new open(":memory:").close();
      outcome = { open };
    } else {
      // Node 22.13 and later; 22.5 to 22.12 only with --experimental-sqlite.
      outcome = { open: (requireHere("node:sqlite") as { readonly DatabaseSync: Constructor }).DatabaseSync };
    }
  } catch (cause) {
    outcome = { cause };
  }
  loaded.set(driver, outcome);
  return outcome;
}

/**
 * Lists the SQLite drivers that load on this Node, in the order {@link openSqliteDatabase} tries
 * them (loading each one, once per process).
 *
 * @returns the names of the drivers that load; empty when neither does
 * @example
 * findSqliteDrivers(); // ["better-sqlite3"] on Node 20, ["better-sqlite3", "node:sqlite"] on Node 22.13+
 */
export function findSqliteDrivers(): SqliteDriverName[] {
  return DRIVERS.filter((driver) => "open" in load(driver));
}

/**
 * Opens (or creates) a SQLite database file for the SQLite stores: on better-sqlite3 12 when its
 * addon loads on this Node, else on `node:sqlite` (Node 22.13 and later, no native build), or on
 * the driver named in `options`. The database is the driver's own object, the caller's to close.
 *
 * @param file - the database file, or `:memory:`
 * @param options - the driver to use instead of the first that loads
 * @returns the open database, or why none could be opened (`sqlite_driver_unavailable` names each driver tried and why it did not load)
 * @example
 * import { createSqliteStore, openSqliteDatabase } from "@millwright/idempotency/sqlite";
 * const opened = openSqliteDatabase("millwright.db");
 * if (opened.isOk()) {
 *   const store = createSqliteStore(opened.value);
 * }
 */
export function openSqliteDatabase(file: string, options: OpenSqliteOptions = {}): Result<OpenedSqliteDatabase, SqliteOpenError> {
  const tried: { driver: SqliteDriverName; cause: unknown }[] = [];
  for (const driver of options.driver === undefined ? DRIVERS : [options.driver]) {
    const outcome = load(driver);
    if (!("open" in outcome)) {
      tried.push({ driver, cause: outcome.cause });
      continue;
    }
    try {
      return ok(new outcome.open(file));
    } catch (cause) {
      return err({ code: "sqlite_open_failed", message: `${driver} could not open ${describeValue(file)}: ${describeValue(cause)}`, driver, file, cause });
    }
  }
  const reasons = tried.map(({ driver, cause }) => `${driver}: ${describeValue(cause)}`).join("; ");
  const wanted = options.driver === undefined ? "no SQLite driver loads on this Node" : `the SQLite driver ${options.driver} does not load on this Node`;
  return err({
    code: "sqlite_driver_unavailable",
    message: `${wanted} (install better-sqlite3 12 built for Node ${process.versions.node}, or run Node 22.13+ for node:sqlite): ${reasons}`,
    tried,
  });
}

/**
 * Tells whether a database is inside a transaction, as either driver says it.
 *
 * @param db - a better-sqlite3 `Database` or node:sqlite `DatabaseSync`
 * @returns true between BEGIN and COMMIT or ROLLBACK
 * @example
 * if (isInSqliteTransaction(db)) db.exec("ROLLBACK");
 */
export function isInSqliteTransaction(db: SqliteDatabase): boolean {
  return db.inTransaction ?? db.isTransaction ?? false;
}
