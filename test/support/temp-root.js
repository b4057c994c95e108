// Jest globalSetup / globalTeardown: every test's temporary folders live under one folder per run,
// removed at the end, so runs do not pile folders up in /tmp.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

export async function setup() {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "ams-tests-"));
  fs.chmodSync(root, 0o755); // like /tmp's own folders: test users other than root may need to look inside
  process.env.AMS_TEST_ROOT = root;
}

export async function teardown() {
  if (process.env.AMS_TEST_ROOT) fs.rmSync(process.env.AMS_TEST_ROOT, { recursive: true, force: true });
}
