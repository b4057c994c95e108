// ESM project: run with NODE_OPTIONS=--experimental-vm-modules (see package.json "test").
const common = {
  testEnvironment: "node",
  extensionsToTreatAsEsm: [".ts"],
  transform: { "^.+\\.ts$": ["ts-jest", { useESM: true }] },
  moduleNameMapper: { "^(\\.{1,2}/.*)\\.js$": "$1" },
  testTimeout: 30000,
  globalSetup: "<rootDir>/test/support/global-setup.js",
  globalTeardown: "<rootDir>/test/support/global-teardown.js",
};

// The accuracy tests compare process counts and CPU figures with ps, mpstat and the like: other
// test files spawning processes meanwhile would skew them, so they run alone, one file at a time.
const ACCURACY = ["<rootDir>/test/accuracy.test.ts"];

export default {
  testTimeout: common.testTimeout,
  projects: [
    {
      ...common,
      displayName: "ams",
      testMatch: ["<rootDir>/test/**/*.test.ts"],
      testPathIgnorePatterns: ["/node_modules/", ...ACCURACY],
    },
    { ...common, displayName: "accuracy", testMatch: ACCURACY, runner: "<rootDir>/test/support/serial-runner.cjs" },
  ],
};
