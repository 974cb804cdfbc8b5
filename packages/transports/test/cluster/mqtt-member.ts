// A member process of the MQTT cluster tests: subscribes (in a share group, or plain) through
// subscribeMqtt with the PostgreSQL inbox of the test's database, and writes one effect row per
// event in the inbox's transaction. Writes "ready" once subscribed; told "stop" on stdin, closes
// and writes "stats {...}" (the subscription's counts) before it exits.
import { createInbox } from "@millwright/idempotency";
import { createPostgresStore, type PgPoolClient } from "@millwright/idempotency/postgres";
import pg from "pg";
import { subscribeMqtt } from "../../src/mqtt.js";
import { applyEffect, type MemberConfig } from "./mqtt-peers.js";

const config = JSON.parse(process.env["MQTT_MEMBER"] ?? "{}") as MemberConfig;
const pool = new pg.Pool({ host: "127.0.0.1", port: 5432, user: "postgres", database: config.database, max: 2, application_name: config.name });
pool.on("error", () => undefined);
const inbox = createInbox<PgPoolClient>(createPostgresStore(pool));
const subscribed = await subscribeMqtt(
  { url: config.url, clientId: config.clientId, topics: config.topics, inbox, retryDelayMs: 50, ...(config.shareGroup === undefined ? {} : { shareGroup: config.shareGroup }) },
  (event, { tx }) => applyEffect(tx, config.name, event),
);
if (subscribed.isErr()) {
  process.stderr.write(`${subscribed.error.code}: ${subscribed.error.message}\n`);
  process.exit(1);
}
const sub = subscribed.value;
process.stdout.write("ready\n");
// "stop" on stdin: close (the message in flight finishes, the rest stays in the session), report, exit.
process.stdin.setEncoding("utf8").on("data", (line: string) => {
  if (!line.includes("stop")) return;
  void (async () => {
    const closed = await sub.close();
    process.stdout.write(`stats ${JSON.stringify({ ...sub.stats(), closed: closed.isOk() })}\n`);
    await pool.end();
    process.exit(0);
  })();
});
