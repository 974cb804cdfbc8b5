// PostgreSQL for the workflow store's tests and benches. It never skips: a missing server fails
// the test with the settings it tried. Settings: MILLWRIGHT_PG_HOST, _PORT, _USER, _PASSWORD,
// _DATABASE (the admin database), as in the idempotency tests.
import { randomBytes } from "node:crypto";
import pg from "pg";

/** PostgreSQL settings of the admin connection. */
const pgSettings = {
  host: process.env["MILLWRIGHT_PG_HOST"] ?? "127.0.0.1",
  port: Number(process.env["MILLWRIGHT_PG_PORT"] ?? 5432),
  user: process.env["MILLWRIGHT_PG_USER"] ?? "postgres",
  password: process.env["MILLWRIGHT_PG_PASSWORD"] ?? "",
  database: process.env["MILLWRIGHT_PG_DATABASE"] ?? "postgres",
};

/**
 * Runs one statement on the admin database.
 *
 * @param sql - the statement
 * @returns when it is done
 * @example
 * await adminQuery("ALTER DATABASE x SET synchronous_commit = off");
 */
export async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ ...pgSettings, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
  } catch (cause) {
    throw new Error(`PostgreSQL is not reachable at ${pgSettings.user}@${pgSettings.host}:${pgSettings.port}/${pgSettings.database} (set MILLWRIGHT_PG_*): ${String(cause)}`);
  }
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** A fresh database: its name, its connection URL, and how to drop it. */
export interface TestDatabase {
  readonly name: string;
  readonly url: string;
  drop(): Promise<void>;
}

/**
 * Creates a database with a unique name.
 *
 * @param label - a short tag in the name (`[a-z0-9_]`)
 * @returns the database
 * @example
 * const db = await createTestDatabase("conformance");
 * const pool = new pg.Pool({ connectionString: db.url });
 */
export async function createTestDatabase(label = "wf"): Promise<TestDatabase> {
  const name = `millwright_${label}_${Date.now().toString(36)}_${randomBytes(4).toString("hex")}`;
  await adminQuery(`CREATE DATABASE ${name}`);
  const auth = pgSettings.password === "" ? encodeURIComponent(pgSettings.user) : `${encodeURIComponent(pgSettings.user)}:${encodeURIComponent(pgSettings.password)}`;
  return {
    name,
    url: `postgresql://${auth}@${pgSettings.host}:${pgSettings.port}/${name}`,
    drop: () => adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}
