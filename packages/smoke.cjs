const { parseWorkOrder, sumQuantities } = require("@millwright/model");
const { WorkOrderSchema } = require("@millwright/model/zod");
console.log("cjs", parseWorkOrder({}).error.issues.length, sumQuantities(Array(10).fill({value:"0.1",unit:"KGM"}))._unsafeUnwrap(), typeof WorkOrderSchema.safeParse);
