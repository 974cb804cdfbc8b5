import { parseWorkOrder, addQuantities, canTransition } from "@millwright/model";
import { WorkOrderSchema } from "@millwright/model/zod";
console.log("esm", parseWorkOrder({}).isErr(), addQuantities({value:"0.1",unit:"KGM"},{value:"0.2",unit:"KGM"})._unsafeUnwrap(), canTransition("planned","released"), typeof WorkOrderSchema.safeParse);
