// Jest's own runner, serial: the tests of a project that uses it run one file at a time in the
// Jest process itself. Jest runs each runner's tests as a group, one group after the other, so
// these never share the machine with the other projects' workers.
const { default: TestRunner } = require("jest-runner");

module.exports = class SerialRunner extends TestRunner {
  isSerial = true;
};
