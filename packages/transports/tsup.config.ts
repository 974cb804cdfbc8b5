import { packageConfig } from "../../tooling/tsup.package.js";

export default packageConfig(["src/index.ts", "src/http.ts", "src/mqtt.ts", "src/nats.ts", "src/amqp.ts"]);
