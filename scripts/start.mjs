// `npm start`: measure this server once with every sensor and show what was logged.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const dist = (name) => fileURLToPath(new URL(`../dist/${name}.js`, import.meta.url));
const run = (name, args) => spawnSync(process.execPath, [dist(name), ...args], { stdio: "inherit" }).status;

console.log("Measuring this server with every sensor (ams-sensor all):");
// A sensor that cannot work here (no network for the CERT feeds) is reported, not fatal.
run("ams-sensor", ["all"]);
