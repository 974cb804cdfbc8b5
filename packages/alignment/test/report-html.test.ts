/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// The HTML report as a person sees it: rendered by Debian's Chromium (headless) at 1280 px wide.
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildAlignmentReport, productionConfirmedRule, qualityHoldClosedRule, renderReportHtml, workOrderStartedRule, type AlignmentReport } from "../src/index.js";
import { released, shiftScenario } from "./fixtures.js";

/** Debian's Chromium, or the browser MILLWRIGHT_CHROMIUM names (README: "Local services"). */
const CHROMIUM = process.env["MILLWRIGHT_CHROMIUM"] ?? "/usr/bin/chromium";
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
const OUT = join(import.meta.dirname, "out");
const HOSTILE = "<script>alert(1)</script>";
const RULES = [workOrderStartedRule(), productionConfirmedRule(), qualityHoldClosedRule()];

let browser: Browser;
let page: Page;
let report: AlignmentReport;
const requests: string[] = [];
const dialogs: string[] = [];
let fileUrl: string;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: this test renders the report in Debian's Chromium; install it with \`apt-get install chromium\` or set MILLWRIGHT_CHROMIUM to a Chrome or Chromium binary`);
  }
  // The shift, plus a work order whose id is markup: it must show as text and never run.
  report = buildAlignmentReport({ events: [...shiftScenario(), released(HOSTILE, 90)], rules: RULES })._unsafeUnwrap();
  mkdirSync(OUT, { recursive: true });
  const file = join(OUT, "report.html");
  writeFileSync(file, renderReportHtml(report));
  fileUrl = pathToFileURL(file).href;

  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 });
  page.on("request", (r) => requests.push(r.url()));
  page.on("dialog", (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  await page.goto(fileUrl, { waitUntil: "load" });
  await page.screenshot({ path: join(OUT, "report.png"), fullPage: true });
}, 60_000);

afterAll(async () => {
  await browser?.close();
});

/** The visible text of each body row of the table whose caption (its accessible name) starts so, by column header. */
async function rowsOf(captionStart: string): Promise<Record<string, string>[]> {
  const table = page.getByRole("table", { name: new RegExp(`^${captionStart}`) });
  await expect(table.isVisible()).resolves.toBe(true);
  return table.evaluate((el) => {
    const text = (cell: Element): string => (cell as HTMLElement).innerText.trim().replace(/\s+/g, " ");
    const headers = [...(el as HTMLTableElement).tHead!.rows[0]!.cells].map(text);
    return [...(el as HTMLTableElement).tBodies[0]!.rows].map((row) => Object.fromEntries([...row.cells].map((cell, i) => [headers[i] ?? String(i), text(cell)])));
  });
}

const pick = (rows: readonly Record<string, string>[], columns: readonly string[]): (string | undefined)[][] => rows.map((row) => columns.map((c) => row[c]));

describe("the HTML report in Chromium at 1280 px", () => {
  it("is one page: nothing but the document itself was requested, and nothing ran", async () => {
    expect(requests).toEqual([fileUrl]);
    expect(dialogs).toEqual([]);
    const external = await page.evaluate(() => document.querySelectorAll("script, link, img, iframe, object, embed, [src], [href], [style*='url(']").length);
    expect(external).toBe(0);
  });

  it("has a title, a language, headed tables and titled timelines", async () => {
    expect(await page.title()).toBe("Millwright alignment report — 2026-03-02 15:00 UTC");
    expect(await page.getAttribute("html", "lang")).toBe("en");
    expect(await page.locator("thead th[scope=col]").count()).toBeGreaterThanOrEqual(6 + 5 + 5);
    await expect(page.getByRole("img", { name: /^Timeline of work order / }).count()).resolves.toBe(report.timelines.orders.length);
  });

  it("shows the per-rule table with its numbers", async () => {
    const rows = await rowsOf("Per rule");
    expect(pick(rows, ["Rule", "Deadline", "Open", "Breached", "Resolved", "Worst lateness"]).map(([rule, ...rest]) => [rule?.split(" ")[0], ...rest])).toEqual([
      ["workorder-started", "4 h", "2", "2", "1", "4 h (1000125)"],
      ["productionconfirmation-posted", "2 h", "0", "1", "0", "—"],
      ["qualityhold-closed", "3 d", "1", "0", "0", "—"],
    ]);
    await expect(page.getByRole("status").innerText()).resolves.toBe("3 breached · 1 resolved · 3 open");
  });

  it("shows each breach with its reasons, lateness and due time, the hostile key as plain text", async () => {
    const rows = await rowsOf("Still out of alignment");
    expect(pick(rows, ["Rule and key", "Reasons", "Lateness", "Due"])).toEqual([
      ["workorder-started 1000125", "missing", "4 h", "2026-03-02 11:00 UTC"],
      [`workorder-started ${HOSTILE}`, "missing", "3 h 30 min", "2026-03-02 11:30 UTC"],
      ["productionconfirmation-posted 1000124", "quantity mismatch", "on time", "2026-03-02 14:00 UTC"],
    ]);
    expect(rows[2]?.["Detail and evidence"]).toMatch(/^difference -2 H87 productioncount\.counted from mes line-fab, 2026-03-02 11:30 UTC/);
    const resolved = await rowsOf("Breached, then met");
    expect(pick(resolved, ["Rule and key", "Reasons", "Lateness", "Due"])).toEqual([["workorder-started 1000124", "late", "1 h 05 min", "2026-03-02 10:00 UTC"]]);
    await expect(page.locator("td.bad", { hasText: "3 h 30 min" }).evaluate((td) => getComputedStyle(td).color)).resolves.toBe("rgb(198, 40, 40)");
  });

  it("draws a visible timeline per work order, with a marker per event, dashed due times and breaches in red", async () => {
    const articles = page.locator("article.order");
    expect(await articles.count()).toBe(report.timelines.orders.length);
    for (const [i, order] of report.timelines.orders.entries()) {
      const article = articles.nth(i);
      await expect(article.locator("h3").innerText()).resolves.toBe(`Work order ${order.orderId}`);
      const svg = article.locator("svg");
      expect(await svg.isVisible()).toBe(true);
      const box = await svg.boundingBox();
      expect(box?.width).toBeGreaterThan(1000);
      expect(box?.height).toBeGreaterThan(60);
      // Every marker and label is inside the drawing, where a person can see it.
      const outside = await svg.evaluate((el) => {
        const frame = el.getBoundingClientRect();
        return [...el.querySelectorAll("circle, text")]
          .map((node) => ({ text: node.textContent ?? node.tagName, r: node.getBoundingClientRect() }))
          .filter(({ r }) => r.width === 0 || r.left < frame.left - 0.5 || r.right > frame.right + 0.5 || r.top < frame.top - 0.5 || r.bottom > frame.bottom + 0.5)
          .map(({ text }) => text);
      });
      expect(outside).toEqual([]);
      expect(await svg.locator("g.marker circle").count()).toBe(order.events.length);
      const labels = await svg.locator("g.marker text").allTextContents();
      expect(labels.length).toBeGreaterThan(0);
      const dashed = await svg.locator("g.due line[stroke-dasharray]").evaluateAll((lines) => lines.map((l) => l.getAttribute("stroke")));
      expect(dashed).toHaveLength(order.dues.length);
      const breached = order.dues.filter((d) => d.status === "breached").length;
      expect(dashed.filter((colour) => colour === "#c62828")).toHaveLength(breached);
    }
    const late = page.locator("article.order").filter({ hasText: "1000124" }).locator("svg");
    await expect(late.locator("g.marker text").allTextContents()).resolves.toEqual(
      expect.arrayContaining(["workorder.released06:00", "workorder.started11:05", "productionconfirmation.confirmed12:30", "qualityhold.placed12:45"]),
    );
    await expect(late.locator("g.due text").allTextContents()).resolves.toEqual(
      expect.arrayContaining(["workorder-started due 10:00resolved: 1 h 05 min late", "productionconfirmation-posted due 14:00breached: quantity mismatch"]),
    );
  });

  it("fits 1280 px: no element reaches past the right edge, and the page does not scroll sideways", async () => {
    const overflowing = await page.evaluate(() =>
      [...document.querySelectorAll("body *")]
        .filter((el) => {
          const r = el.getBoundingClientRect();
          return r.width > 0 && (r.right > window.innerWidth + 0.5 || r.left < -0.5);
        })
        .map((el) => `${el.tagName.toLowerCase()}.${el.getAttribute("class") ?? ""}: ${(el.textContent ?? "").slice(0, 40)}`),
    );
    expect(overflowing).toEqual([]);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(1280);
    // Tables and timelines also stay within the page's column, not merely within the window.
    const wide = await page.evaluate(() => {
      const main = document.querySelector("main")!;
      const right = main.getBoundingClientRect().right - parseFloat(getComputedStyle(main).paddingRight);
      return [...main.querySelectorAll("table, svg")].filter((el) => el.getBoundingClientRect().right > right + 0.5).map((el) => el.tagName);
    });
    expect(wide).toEqual([]);
  });
});
