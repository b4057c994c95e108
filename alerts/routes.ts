import { EMAIL_CHANNEL, type Route } from "./config.js";
import { matchesAll, type MatchSubject } from "./matchers.js";

/**
 * Routing (pure): alerts.routes are tried in order; each route whose `match` holds adds its
 * channels, and the search stops there unless the route says `continue`. The e-mail is the last
 * route, matching everything: an alert no route stopped at is mailed, so a config without routes
 * mails every alert, as before routes existed.
 */

function matchingRoutes(subject: MatchSubject, routes: readonly Route[]): { routes: Route[]; stopped: boolean } {
  const matched: Route[] = [];
  for (const route of routes) {
    if (!matchesAll(route.match, subject)) continue;
    matched.push(route);
    if (!route.continue) return { routes: matched, stopped: true };
  }
  return { routes: matched, stopped: false };
}

/** The channels an alert goes to, each once, in route order. */
export function channelsFor(subject: MatchSubject, routes: readonly Route[]): string[] {
  const { routes: matched, stopped } = matchingRoutes(subject, routes);
  const names = matched.flatMap((r) => r.channels);
  return [...new Set(stopped ? names : [...names, EMAIL_CHANNEL])];
}

/** Seconds between reminders of an alert: the first matching route's `repeat`, else alerts.repeat. */
export function repeatFor(subject: MatchSubject, routes: readonly Route[], fallback: number): number {
  return matchingRoutes(subject, routes).routes.find((r) => r.repeat !== undefined)?.repeat ?? fallback;
}
