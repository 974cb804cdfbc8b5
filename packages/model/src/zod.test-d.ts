import { describe, expectTypeOf, test } from "vitest";
import type { z } from "zod";
import type * as T from "./generated/types.js";
import type * as Z from "./generated/zod.js";

// The zod schemas are generated from the same bundle as the TypeScript types; these tests prove
// that what zod infers is exactly the declared type, for every entity and every shared type.
describe("zod-inferred types equal the generated types", () => {
  test("entities", () => {
    expectTypeOf<z.infer<typeof Z.WorkOrderSchema>>().toEqualTypeOf<T.WorkOrder>();
    expectTypeOf<z.infer<typeof Z.BatchSchema>>().toEqualTypeOf<T.Batch>();
    expectTypeOf<z.infer<typeof Z.MaterialMovementSchema>>().toEqualTypeOf<T.MaterialMovement>();
    expectTypeOf<z.infer<typeof Z.QualityHoldSchema>>().toEqualTypeOf<T.QualityHold>();
    expectTypeOf<z.infer<typeof Z.ProductionConfirmationSchema>>().toEqualTypeOf<T.ProductionConfirmation>();
    expectTypeOf<z.infer<typeof Z.MachineStateSchema>>().toEqualTypeOf<T.MachineState>();
    expectTypeOf<z.infer<typeof Z.ProductionCountSchema>>().toEqualTypeOf<T.ProductionCount>();
  });

  test("shared types", () => {
    expectTypeOf<z.infer<typeof Z.QuantitySchema>>().toEqualTypeOf<T.Quantity>();
    expectTypeOf<z.infer<typeof Z.ExtensionsSchema>>().toEqualTypeOf<T.Extensions>();
    expectTypeOf<z.infer<typeof Z.StockLocationSchema>>().toEqualTypeOf<T.StockLocation>();
    expectTypeOf<z.infer<typeof Z.EquipmentRefSchema>>().toEqualTypeOf<T.EquipmentRef>();
    expectTypeOf<z.infer<typeof Z.ScheduleSchema>>().toEqualTypeOf<T.Schedule>();
    expectTypeOf<z.infer<typeof Z.WorkOrderStatusSchema>>().toEqualTypeOf<T.WorkOrderStatus>();
    expectTypeOf<z.infer<typeof Z.QualityHoldDispositionSchema>>().toEqualTypeOf<T.QualityHoldDisposition>();
    expectTypeOf<z.infer<typeof Z.SourceStateValueSchema>>().toEqualTypeOf<T.SourceStateValue>();
    expectTypeOf<z.infer<typeof Z.CounterReadingSchema>>().toEqualTypeOf<T.CounterReading>();
    expectTypeOf<z.infer<typeof Z.WmsEventSchema>>().toEqualTypeOf<T.WmsEvent>();
    expectTypeOf<z.infer<typeof Z.WmsRequestSchema>>().toEqualTypeOf<T.WmsRequest>();
  });

  test("a wrong type is told apart (the test can fail)", () => {
    expectTypeOf<z.infer<typeof Z.QuantitySchema>>().not.toEqualTypeOf<{ value: number; unit: string }>();
    expectTypeOf<z.infer<typeof Z.WorkOrderSchema>>().not.toEqualTypeOf<Omit<T.WorkOrder, "extensions">>();
  });
});
