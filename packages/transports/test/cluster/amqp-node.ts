// A RabbitMQ node of the test's own (never the system broker): its name, ports, data, logs, config
// and Erlang cookie (HOME) in a temp dir, no plugins. Started, killed, restarted and stopped by the test.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./nats-cluster.js";
import { Socket } from "node:net";

/** Debian's scripts, called directly (the /usr/sbin wrappers switch to the rabbitmq user and its cookie). */
const RABBITMQ_BIN = process.env["MILLWRIGHT_RABBITMQ_BIN"] ?? "/usr/lib/rabbitmq/bin";

/** The node a test started. */
export interface RabbitNode {
  readonly nodeName: string;
  readonly port: number;
  /** amqp://guest:guest@127.0.0.1:<port> */
  readonly url: string;
  /** The OS process group of the running node (the script and its Erlang VM), or undefined when stopped. */
  readonly processGroup: () => number | undefined;
  /** Starts the node on its ports and data; resolves when it accepts AMQP connections. */
  readonly start: () => Promise<void>;
  /** SIGKILLs the node's whole process group: a crash, no clean shutdown. */
  readonly kill: () => Promise<void>;
  /** `rabbitmqctl -n <node> stop`, SIGKILL as fallback after 20 s, then removes the temp dir. */
  readonly stop: () => Promise<void>;
  /** The node's console output (recent). */
  readonly output: () => string;
}

const everyGroup = new Set<number>();
process.once("exit", () => {
  for (const g of everyGroup) {
    try {
      process.kill(-g, "SIGKILL");
    } catch {
      // gone already
    }
  }
});

async function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
    socket.connect(port, "127.0.0.1");
  });
}

/** Prepares a node (free AMQP and distribution ports, a unique node name) and starts it. */
export async function startRabbitNode(): Promise<RabbitNode> {
  const root = mkdtempSync(join(tmpdir(), "mw-rabbit-"));
  const home = join(root, "home");
  mkdirSync(home);
  const plugins = join(root, "enabled_plugins");
  writeFileSync(plugins, "[].\n");
  const config = join(root, "rabbitmq.conf");
  writeFileSync(config, "loopback_users = none\n");
  const port = await freePort();
  const distPort = await freePort();
  const nodeName = `mw-${process.pid}-${Math.random().toString(36).slice(2, 8)}@localhost`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOME: home,
    RABBITMQ_NODENAME: nodeName,
    RABBITMQ_NODE_IP_ADDRESS: "127.0.0.1",
    RABBITMQ_NODE_PORT: String(port),
    RABBITMQ_DIST_PORT: String(distPort),
    RABBITMQ_MNESIA_BASE: join(root, "mnesia"),
    RABBITMQ_LOG_BASE: join(root, "log"),
    RABBITMQ_CONFIG_FILE: config,
    RABBITMQ_ENABLED_PLUGINS_FILE: plugins,
  };
  let child: ChildProcess | undefined;
  let output = "";

  const start = async (): Promise<void> => {
    if (child !== undefined) throw new Error(`${nodeName} runs already`);
    // Its own process group, so a kill reaches the Erlang VM the script starts.
    const c = spawn(join(RABBITMQ_BIN, "rabbitmq-server"), [], { env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    child = c;
    if (c.pid !== undefined) everyGroup.add(c.pid);
    const append = (chunk: Buffer): void => void (output = (output + chunk.toString()).slice(-20_000));
    c.stdout?.on("data", append);
    c.stderr?.on("data", append);
    c.once("exit", () => {
      if (c.pid !== undefined) everyGroup.delete(c.pid);
      if (child === c) child = undefined;
    });
    const deadline = Date.now() + 90_000;
    while (!(await portOpen(port))) {
      if (child !== c) throw new Error(`${nodeName} exited while starting: ${output.slice(-2000)}`);
      if (Date.now() > deadline) throw new Error(`${nodeName} did not accept connections on ${port} within 90 s: ${output.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  const killGroup = async (signal: NodeJS.Signals): Promise<void> => {
    const c = child;
    if (c?.pid === undefined) return;
    const gone = new Promise<void>((resolve) => (c.exitCode !== null || c.signalCode !== null ? resolve() : c.once("exit", () => resolve())));
    try {
      process.kill(-c.pid, signal);
    } catch {
      // the group is gone already
    }
    await gone;
    // The VM may outlive the script by a moment: wait until the port is free again.
    const deadline = Date.now() + 10_000;
    while ((await portOpen(port)) && Date.now() < deadline) {
      try {
        process.kill(-c.pid, "SIGKILL");
      } catch {
        // gone
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  const stop = async (): Promise<void> => {
    if (child !== undefined) {
      await new Promise<void>((resolve) => execFile(join(RABBITMQ_BIN, "rabbitmqctl"), ["-n", nodeName, "stop"], { env, timeout: 20_000 }, () => resolve()));
      await killGroup("SIGKILL");
    }
    rmSync(root, { recursive: true, force: true });
  };

  try {
    await start();
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    nodeName,
    port,
    url: `amqp://guest:guest@127.0.0.1:${port}`,
    processGroup: () => child?.pid,
    start,
    kill: () => killGroup("SIGKILL"),
    stop,
    output: () => output,
  };
}
