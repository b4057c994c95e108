/** Set by scripts/build.mjs in the bundles, one value per build. */
declare const AMS_BUILD_ID: string | undefined;

/** This build's id; undefined when running from the sources, where nothing may be cached across runs. */
export const buildId: string | undefined = typeof AMS_BUILD_ID === "string" ? AMS_BUILD_ID : undefined;
