// Worker processes killed with SIGKILL at each boundary, on PostgreSQL, a fresh database per test (see scenarios.ts).
import { describeKillTests } from "./scenarios.js";

describeKillTests("pg");
