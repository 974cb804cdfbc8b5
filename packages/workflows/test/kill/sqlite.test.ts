// Worker processes killed with SIGKILL at each boundary, on a SQLite file store (see scenarios.ts).
import { describeKillTests } from "./scenarios.js";

describeKillTests("sqlite");
