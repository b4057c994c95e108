// Build only. The code imports zod's `z` namespace, which drags all of zod and every one of its
// locales into a bundle (~750 KB, ~100 ms of start-up for every cron job). scripts/build.mjs aliases
// "zod" to this module, which rebuilds `z` from the members AMS uses (static member accesses, which
// the bundler resolves one by one), so it keeps only those. test/zod-for-bundles.test.ts fails when
// the code uses a member missing here.
import * as zod from "zod/v4";

// The jobs validate a config and a few records once per run: compiling fast paths for them (zod's
// default, through new Function) costs more than it saves.
zod.config({ jitless: true });

export const z = {
  array: zod.array,
  boolean: zod.boolean,
  enum: zod.enum,
  ipv4: zod.ipv4,
  ipv6: zod.ipv6,
  iso: zod.iso,
  literal: zod.literal,
  looseObject: zod.looseObject,
  NEVER: zod.NEVER,
  number: zod.number,
  object: zod.object,
  record: zod.record,
  strictObject: zod.strictObject,
  string: zod.string,
  union: zod.union,
  unknown: zod.unknown,
  url: zod.url,
};
