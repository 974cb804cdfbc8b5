// Connections to the local services the store and fault tests use. They never skip: a missing
// service fails the test with the settings it tried.
import { randomBytes } from "node:crypto";
import pg from "pg";
import { createClient } from "redis";

/** PostgreSQL settings: MILLWRIGHT_PG_HOST, _PORT, _USER, _PASSWORD, _DATABASE (the admin database). */
export const pgSettings = {
  host: process.env["MILLWRIGHT_PG_HOST"] ?? "127.0.0.1",
  port: Number(process.env["MILLWRIGHT_PG_PORT"] ?? 5432),
  user: process.env["MILLWRIGHT_PG_USER"] ?? "postgres",
  password: process.env["MILLWRIGHT_PG_PASSWORD"] ?? "",
  database: process.env["MILLWRIGHT_PG_DATABASE"] ?? "postgres",
};

/** Redis URL: MILLWRIGHT_REDIS_URL. */
export const redisUrl = process.env["MILLWRIGHT_REDIS_URL"] ?? "redis://127.0.0.1:6379";

/** A unique suffix for databases and key prefixes, so parallel runs never collide. */
export function uniqueSuffix(): string {
  return `${Date.now().toString(36)}_${randomBytes(4).toString("hex")}`;
}

async function admin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ ...pgSettings, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
  } catch (cause) {
    throw new Error(`PostgreSQL is not reachable at ${pgSettings.user}@${pgSettings.host}:${pgSettings.port}/${pgSettings.database} (set MILLWRIGHT_PG_*): ${String(cause)}`);
  }
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Creates a fresh database; returns its name and a function that drops it. */
export async function createTestDatabase(): Promise<{ name: string; drop: () => Promise<void> }> {
  const name = `millwright_test_${uniqueSuffix()}`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  return { name, drop: () => admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined) };
}

function redisClient() {
  // Reconnects every 100 ms for about a minute: a dropped connection resumes without help.
  return createClient({ url: redisUrl, socket: { connectTimeout: 5000, reconnectStrategy: (retries: number) => (retries > 600 ? new Error("gave up") : 100) } });
}

/** A connected node-redis client; fails loudly when Redis is not there. */
export async function connectRedis(): Promise<ReturnType<typeof redisClient>> {
  const client = redisClient();
  client.on("error", () => undefined);
  try {
    await client.connect();
  } catch (cause) {
    throw new Error(`Redis is not reachable at ${redisUrl} (set MILLWRIGHT_REDIS_URL): ${String(cause)}`);
  }
  return client;
}

/** Deletes every key under a prefix. */
export async function deletePrefix(client: { sendCommand(args: string[]): Promise<unknown> }, prefix: string): Promise<void> {
  let cursor = "0";
  do {
    const [next, keys] = (await client.sendCommand(["SCAN", cursor, "MATCH", `${prefix}*`, "COUNT", "1000"])) as [string, string[]];
    cursor = next;
    if (keys.length > 0) await client.sendCommand(["DEL", ...keys]);
  } while (cursor !== "0");
}
