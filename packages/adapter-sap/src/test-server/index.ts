// Public API of @millwright/adapter-sap/test-server: a local SAP Gateway look-alike for tests.
export {
  startTestSapServer,
  type AppliedFault,
  type RecordedPost,
  type TestFault,
  type TestRows,
  type TestSapServer,
  type TestSapServerOptions,
  type TestServiceDefinition,
} from "./server.js";
