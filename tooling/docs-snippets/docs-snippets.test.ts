import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { createSnippetProject, docsFiles, extractSnippets, isTestCode, keyOf, readmeFiles, root, type Resolution, type Snippet, type SnippetError } from "./snippets.js";

/**
 * Snippets known not to compile yet, each with why. A snippet is named by its file and its first
 * line, so that edits elsewhere in the file do not move it. The test fails when one of these
 * compiles (remove it from the list then) and when one no longer exists.
 */
const KNOWN_FAILURES: readonly { readonly file: string; readonly first: string; readonly why: string }[] = [];

/** The webhook receiver wired as docs/transports.md describes it, self-contained. */
const WEBHOOK_WIRING: Snippet = {
  file: "tooling/docs-snippets/webhook-wiring",
  line: 1,
  code: [
    'import { createServer } from "node:http";',
    'import { createInbox, createMemoryStore } from "@millwright/idempotency";',
    'import { createWebhookReceiver } from "@millwright/transports/http";',
    "",
    "const applied: string[] = [];",
    'const receiver = createWebhookReceiver({ secrets: [process.env["WEBHOOK_SECRET"] ?? ""], inbox: createInbox(createMemoryStore()) }, (event, { tx }) => {',
    "  tx.defer(() => applied.push(event.id));",
    "});",
    "createServer(receiver.listener).listen(8080);",
  ].join("\n"),
};

const snippets: Snippet[] = [...docsFiles(), ...readmeFiles()].flatMap((file) => extractSnippets(readFileSync(join(root, file), "utf8"), file));
const firstLine = (s: Snippet): string => s.code.split("\n")[0] ?? "";
const known = new Map(KNOWN_FAILURES.map((k) => [`${k.file}\u0000${k.first}`, k.why]));
const whyKnown = (s: Snippet): string | undefined => known.get(`${s.file}\u0000${firstLine(s)}`);

const project = createSnippetProject([...snippets, WEBHOOK_WIRING]);
afterAll(() => project.dispose());
const results = new Map<Resolution, Map<string, SnippetError[]>>();
const errorsOf = (resolution: Resolution, s: Snippet): SnippetError[] => {
  let all = results.get(resolution);
  if (all === undefined) {
    all = project.check(resolution);
    results.set(resolution, all);
  }
  return all.get(keyOf(s)) ?? [];
};
const render = (errors: readonly SnippetError[], file: string): string[] => errors.map((e) => `${file}:${e.line}: TS${e.code}: ${e.message}`);

describe("the TypeScript snippets of docs/ and the package READMEs", () => {
  test("there are snippets, and every known failure names one that exists", () => {
    expect(snippets.length).toBeGreaterThan(20);
    const present = new Set(snippets.map((s) => `${s.file}\u0000${firstLine(s)}`));
    expect(KNOWN_FAILURES.filter((k) => !present.has(`${k.file}\u0000${k.first}`)).map((k) => `${k.file}: ${k.first}`)).toEqual([]);
  });

  test("production-style snippets do not call _unsafeUnwrap() (tests may)", () => {
    const offenders = snippets.filter((s) => !isTestCode(s) && whyKnown(s) === undefined && s.code.includes("_unsafeUnwrap"));
    expect(offenders.map(keyOf)).toEqual([]);
  });

  describe.each(["nodenext", "bundler"] as const)("compile with strict tsc, moduleResolution %s", (resolution) => {
    test.each(snippets.filter((s) => whyKnown(s) === undefined).map((s) => [keyOf(s), s] as const))("%s", (_, s) => {
      expect(render(errorsOf(resolution, s), s.file)).toEqual([]);
    });

    test("the documented webhook wiring: createWebhookReceiver({ inbox: createInbox(createMemoryStore()) }, handler)", () => {
      expect(render(errorsOf(resolution, WEBHOOK_WIRING), WEBHOOK_WIRING.file)).toEqual([]);
    });

    // Each known failure must still fail: once a doc is fixed, its entry goes.
    test("the known failures still fail", () => {
      const fixed = snippets.filter((s) => whyKnown(s) !== undefined && errorsOf(resolution, s).length === 0 && !(s.code.includes("_unsafeUnwrap") && !isTestCode(s)));
      expect(fixed.map(keyOf)).toEqual([]);
    });
  });
});
