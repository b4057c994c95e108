import { cert } from "./cert.js";
import { cpu } from "./cpu.js";
import { disk } from "./disk.js";
import { processes } from "./processes.js";
import { ram } from "./ram.js";
import type { Sensor } from "./sensor.js";
import { users } from "./users.js";

/** The built-in sensors, in the order `ams-sensor all` runs and prints them. */
export const builtinSensors: readonly Sensor[] = [cpu, ram, disk, processes, users, cert];
