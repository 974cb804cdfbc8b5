// For random step outcomes, what a counting peer sees is exactly what the definition says: the
// steps before the first failure for good, in order, then their compensations in reverse order.
import { createRetryPolicy, permanent, retryable } from "@millwright/idempotency";
import fc from "fast-check";
import { err, ok } from "neverthrow";
import { describe, expect, it } from "vitest";
import { defineWorkflow } from "../src/define.js";
import { createWorkflowRuntime } from "../src/runtime.js";
import { createMemoryWorkflowStore } from "../src/stores/memory.js";
import type { InstanceState } from "../src/types.js";
import { captureLogger, CountingPeer, manualClock } from "./fixtures.js";

type Outcome = "success" | "transient" | "permanent";
type Undo = "ok" | "transient-then-ok" | "permanent" | "none";

interface StepPlan {
  /** Outcome of each attempt; after the list ends, attempts succeed. */
  readonly attempts: readonly Outcome[];
  readonly maxAttempts: number;
  readonly undo: Undo;
}

const stepPlan: fc.Arbitrary<StepPlan> = fc.record({
  attempts: fc.array(fc.constantFrom<Outcome>("success", "transient", "transient", "permanent"), { maxLength: 4 }),
  maxAttempts: fc.integer({ min: 1, max: 3 }),
  undo: fc.constantFrom<Undo>("ok", "ok", "transient-then-ok", "permanent", "none"),
});

/** What the definition says the peer sees, and the final state. */
function expected(plans: readonly StepPlan[]): { readonly effects: string[]; readonly state: InstanceState } {
  const effects: string[] = [];
  const completed: number[] = [];
  for (const [i, plan] of plans.entries()) {
    let outcome: "completed" | "failed" = "failed";
    for (let attempt = 1; attempt <= plan.maxAttempts; attempt++) {
      const o = plan.attempts[attempt - 1] ?? "success";
      if (o === "success") {
        outcome = "completed";
        break;
      }
      if (o === "permanent") break;
    }
    if (outcome === "completed") {
      effects.push(`s${i}`);
      completed.push(i);
      continue;
    }
    for (const j of [...completed].reverse()) {
      const undo = plans[j]!.undo;
      if (undo === "none") continue;
      if (undo === "permanent") return { effects, state: "failed" };
      effects.push(`undo-s${j}`);
    }
    return { effects, state: "compensated" };
  }
  return { effects, state: "completed" };
}

describe("property: effects at the peer match the definition", () => {
  it("for random step outcomes, the completed steps and compensations seen by the peer are exactly the definition's", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(stepPlan, { minLength: 1, maxLength: 6 }), async (plans) => {
        const peer = new CountingPeer();
        const undoAttempts = new Map<number, number>();
        const wf = defineWorkflow({
          name: "random",
          version: 1,
          run: async (wf) => {
            for (const [i, plan] of plans.entries()) {
              await wf.step(
                `s${i}`,
                async (ctx) => {
                  const o = plan.attempts[ctx.attempt - 1] ?? "success";
                  if (o === "transient") return err(retryable(`s${i} busy`));
                  if (o === "permanent") return err(permanent(`s${i} refused`));
                  peer.apply(`s${i}`, ctx.idempotencyKey);
                  return ok(i);
                },
                {
                  retry: createRetryPolicy({ maxAttempts: plan.maxAttempts, baseDelayMs: 0 }),
                  compensateRetry: createRetryPolicy({ maxAttempts: 2, baseDelayMs: 0 }),
                  ...(plan.undo === "none"
                    ? {}
                    : {
                        compensate: async (ctx) => {
                          const n = (undoAttempts.get(i) ?? 0) + 1;
                          undoAttempts.set(i, n);
                          if (plan.undo === "permanent") return err(permanent(`undo-s${i} refused`));
                          if (plan.undo === "transient-then-ok" && n === 1) return err(retryable(`undo-s${i} busy`));
                          peer.apply(`undo-s${i}`, ctx.idempotencyKey);
                          return ok(null);
                        },
                      }),
                },
              );
            }
            return "done";
          },
        });
        const runtime = createWorkflowRuntime({ store: createMemoryWorkflowStore(), workflows: [wf], clock: manualClock(), logger: captureLogger(), random: () => 0 });
        const ref = (await runtime.start(wf, "k", null))._unsafeUnwrap();
        await runtime.runDue();
        const want = expected(plans);
        expect(peer.actions()).toEqual(want.effects);
        // Every call reached the peer once: no step or compensation ran again after its success.
        expect(peer.calls).toHaveLength(want.effects.length);
        const snapshot = (await runtime.get(ref.id))._unsafeUnwrap();
        expect(snapshot.instance.state).toBe(want.state);
        expect((await runtime.deadLetters())._unsafeUnwrap()).toHaveLength(want.state === "failed" ? 1 : 0);
      }),
      { numRuns: 150 },
    );
  });
});
