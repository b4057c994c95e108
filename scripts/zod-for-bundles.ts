// Build only. The code imports zod's `z` namespace, which drags all of zod and every one of its
// locales into a bundle (~750 KB, ~100 ms of start-up for every cron job). scripts/build.mjs aliases
// "zod" to this module, which rebuilds `z` from the named exports AMS uses, so the bundler keeps
// only those. test/zod-for-bundles.test.ts fails when the code uses a member missing here.
import {
  config,
  array,
  boolean,
  enum as enumOf,
  ipv4,
  ipv6,
  iso,
  literal,
  looseObject,
  NEVER,
  number,
  object,
  record,
  strictObject,
  string,
  union,
  unknown,
  url,
} from "zod/v4";

// The jobs validate a config and a few records once per run: compiling fast paths for them (zod's
// default, through new Function) costs more than it saves.
config({ jitless: true });

export const z = {
  array,
  boolean,
  enum: enumOf,
  ipv4,
  ipv6,
  iso,
  literal,
  looseObject,
  NEVER,
  number,
  object,
  record,
  strictObject,
  string,
  union,
  unknown,
  url,
};
