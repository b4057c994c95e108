// `npm start`: measure this server once with every sensor, render the dashboard, then serve it
// with ams-web in the foreground (Ctrl-C stops it).
import { spawn, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const dist = (name) => fileURLToPath(new URL(`../dist/${name}.js`, import.meta.url));
const run = (name, args) => spawnSync(process.execPath, [dist(name), ...args], { stdio: "inherit" }).status;

console.log("Measuring this server with every sensor (ams-sensor all):");
// A sensor that cannot work here (no network for the CERT feeds) is reported, not fatal.
run("ams-sensor", ["all"]);

console.log("\nRendering the dashboard (ams-graphs):");
if (run("ams-graphs", []) !== 0) process.exit(1);

console.log("\nServing the dashboard (ams-web); open the URL below, Ctrl-C to stop:");
const web = spawn(process.execPath, [dist("ams-web"), ...process.argv.slice(2)], { stdio: "inherit" });
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => web.kill(signal));
web.on("exit", (code, signal) => process.exit(code ?? (signal ? 0 : 1)));
