import { describe, expect, it } from "vitest";
import { defaultSqliteDriver, sqliteDrivers } from "../test/sqlite-drivers.js";
import { EMPTY_LINE_STATE } from "@millwright/adapter-kit";
import { createMemoryCounterStore, type CounterStateStore } from "@millwright/adapter-kit";
import { createSqliteCounterStore } from "./state-store.js";

const stored = { state: { ...EMPTY_LINE_STATE, counters: { "ns=3;s=Good": { value: 2147483647, micros: 1772431960125000 } }, windowEndMicros: 1772431960125000 }, pending: [] };

describe.each<[string, () => Promise<CounterStateStore>]>([
  ["memory", () => Promise.resolve(createMemoryCounterStore())],
  ...sqliteDrivers.map((driver): [string, () => Promise<CounterStateStore>] => [`sqlite (${driver.name})`, async () => createSqliteCounterStore(await driver.open(":memory:"))]),
])("%s counter store", (_name, create) => {
  it("returns undefined for an unknown line and what was saved for a known one", async () => {
    const store = await create();
    expect(await store.load("1710/LINE1")).toBeUndefined();
    await store.save("1710/LINE1", stored);
    expect(await store.load("1710/LINE1")).toEqual(stored);
    await store.save("1710/LINE1", { ...stored, pending: [] });
    expect(await store.load("1710/LINE1")).toEqual(stored);
  });

  it("saves several lines with saveMany, each as save would", async () => {
    const store = await create();
    const other = { state: { ...stored.state, windowEndMicros: 1772431960225000 }, pending: [] };
    await store.saveMany?.([
      { key: "1710/LINE1", value: stored },
      { key: "1710/LINE2", value: other },
    ]);
    expect(await store.load("1710/LINE1")).toEqual(stored);
    expect(await store.load("1710/LINE2")).toEqual(other);
    await store.saveMany?.([{ key: "1710/LINE2", value: stored }]);
    expect(await store.load("1710/LINE2")).toEqual(stored);
    expect(await store.load("1710/LINE1")).toEqual(stored);
  });
});

describe("createMemoryCounterStore", () => {
  it("keeps the saved line itself, without serialising it: a later save replaces it and leaves a loaded one as it was", async () => {
    const store = createMemoryCounterStore();
    await store.save("1710/LINE1", stored);
    const loaded = await store.load("1710/LINE1");
    expect(loaded).toBe(stored);
    const next = { state: { ...stored.state, windowEndMicros: 1772431960225000 }, pending: [] };
    await store.save("1710/LINE1", next);
    expect(await store.load("1710/LINE1")).toBe(next);
    expect(loaded?.state.windowEndMicros).toBe(1772431960125000);
    expect(await store.load("1710/LINE2")).toBeUndefined();
  });
});

describe("createSqliteCounterStore", () => {
  it("a second store over the same database sees the saved state", async () => {
    const db = await defaultSqliteDriver.open(":memory:");
    await createSqliteCounterStore(db).save("k", stored);
    expect(await createSqliteCounterStore(db).load("k")).toEqual(stored);
  });

  it("saveMany saves all lines or none: a line that cannot be stored leaves every line as it was", async () => {
    const db = await defaultSqliteDriver.open(":memory:");
    const store = createSqliteCounterStore(db);
    await store.save("1710/LINE1", stored);
    const next = { state: { ...stored.state, windowEndMicros: 1772431960225000 }, pending: [] };
    // A BigInt has no JSON form: the second line fails after the first was written in the transaction.
    const broken = { state: { ...stored.state, carry: 1n as unknown as number }, pending: [] };
    await expect(
      store.saveMany?.([
        { key: "1710/LINE1", value: next },
        { key: "1710/LINE2", value: broken },
      ]),
    ).rejects.toThrow(/BigInt/);
    expect(await store.load("1710/LINE1")).toEqual(stored);
    expect(await store.load("1710/LINE2")).toBeUndefined();
    // The store is usable afterwards, also inside a transaction the caller holds (a savepoint nests).
    db.exec("BEGIN");
    await store.saveMany?.([{ key: "1710/LINE2", value: next }]);
    db.exec("ROLLBACK");
    expect(await store.load("1710/LINE2")).toBeUndefined();
    await store.saveMany?.([{ key: "1710/LINE2", value: next }]);
    expect(await store.load("1710/LINE2")).toEqual(next);
  });

  it("rejects a table prefix that is not an identifier (programmer error)", async () => {
    const db = await defaultSqliteDriver.open(":memory:");
    expect(() => createSqliteCounterStore(db, "x; DROP")).toThrowErrorMatchingInlineSnapshot(`[TypeError: tablePrefix must be a SQL identifier prefix, got "x; DROP"]`);
  });
});
