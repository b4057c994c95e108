import type { Sample } from "./sample.js";

/**
 * Who a remote's copy may speak for. A pulled store belongs to the remote it came from, whatever
 * its records say: a remote whose records name "hub" must not fire the hub's alerts, draw on its
 * page or hide another server's silence. Only servers its config entry lists in `may_speak_for`
 * (a remote that relays others) are kept besides its own name.
 */
export interface Speaker {
  name: string;
  may_speak_for?: readonly string[];
}

export interface OwnSamples {
  samples: Sample[];
  /** Records that name a server this remote may not speak for: skipped. */
  foreign: number;
  /** Those servers' names, sorted, the first few only (for the pull status and the log). */
  foreignServers: string[];
}

/** How many foreign names are reported: enough to recognise a misnamed remote, never a flood. */
const NAMED = 5;

/** Whether `speaker` may speak for a server: its own name, or one its config entry lists. */
export function speaksFor(speaker: Speaker): (server: string) => boolean {
  const allowed = new Set([speaker.name, ...(speaker.may_speak_for ?? [])]);
  return (server) => allowed.has(server);
}

/**
 * The samples `speaker` may speak for. `namedBefore`: the foreign names already reported for the
 * records before these (a copy checked in parts), so that the names are those of the whole copy.
 */
export function ownSamples(
  samples: readonly Sample[],
  speaker: Speaker,
  namedBefore: readonly string[] = [],
): OwnSamples {
  const allowed = speaksFor(speaker);
  const own: Sample[] = [];
  const names = new Set<string>(namedBefore);
  let foreign = 0;
  for (const sample of samples) {
    if (allowed(sample.server_id)) own.push(sample);
    else {
      foreign++;
      if (names.size < NAMED) names.add(sample.server_id);
    }
  }
  return { samples: own, foreign, foreignServers: [...names].sort() };
}
