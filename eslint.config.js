// ESLint: typescript-eslint's strict type-checked rules, the import layers, and a few bans that
// matter at data sizes. Run with `npm run lint`.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

/**
 * The layers, top to bottom: CLIs (each feature's cli.ts, storage/cleanup-cli.ts,
 * scripts/install-crontab.ts) and config/ (the whole config composed from the features' sections)
 * → feature folders → storage/ → lib/. Imports point down only; features do not import each other
 * except through the modules below.
 */
const FEATURES = ["sensors", "alerts", "graphs", "web", "backups", "remote"];
/** Pure declarations a feature may import from another: they carry no I/O and no heavy package. */
const SHARED_ACROSS_FEATURES = [
  "sensors/catalogue.js", // the metrics' declarations (units, titles)
  "alerts/config.js", // the alert rules, which the charts draw as thresholds
  "graphs/file-names.js", // the pages' file names, which alert mails link to
];
/** The command-line entry points (and the other scripts), which nothing imports. */
const CLI_MODULES = [...FEATURES.map((f) => `${f}/cli.js`), "storage/cleanup-cli.js", "scripts/*"];

const message = (from, to) => `${from} may not import ${to}: imports point down (CLI → feature → storage → lib).`;

/** Below the features: they may not see the composed config at all, not even its types. */
const isBottom = (folder) => folder === "lib" || folder === "storage";

/** The folders whose code `folder` may not import: those above it, and for a feature the other features. */
function forbiddenFolders(folder) {
  if (folder === "lib") return ["storage", ...FEATURES];
  if (folder === "storage") return FEATURES;
  return FEATURES.filter((f) => f !== folder);
}

/** `@typescript-eslint/no-restricted-imports` patterns for code in `folder`. */
function layerPatterns(folder) {
  const entryPoints = CLI_MODULES.map((m) =>
    m.startsWith(`${folder}/`) ? `./${m.slice(folder.length + 1)}` : `../${m}`,
  );
  const patterns = [{ group: entryPoints, message: message(`${folder}/`, "a command-line entry point") }];
  if (folder === "config") return patterns;
  patterns.push({
    group: ["../config/*"],
    // The composed config's types flow down (features read their sections from it); its code does not.
    allowTypeImports: !isBottom(folder),
    message: message(`${folder}/`, isBottom(folder) ? "config/ (the composed config)" : "config/ other than its types"),
  });
  const allowed = isBottom(folder) ? [] : SHARED_ACROSS_FEATURES.filter((m) => !m.startsWith(`${folder}/`));
  patterns.push({
    group: [...forbiddenFolders(folder).map((f) => `../${f}/*`), ...allowed.map((m) => `!../${m}`)],
    message: message(`${folder}/`, isBottom(folder) ? "a feature" : "another feature"),
  });
  return patterns;
}

/** A lazy `import("../x/…")` of a forbidden folder, which no-restricted-imports does not see. */
function lazyUpwardImport(folder) {
  if (folder === "config") return [];
  const folders = ["config", ...forbiddenFolders(folder)].join("|");
  return [
    {
      selector: `ImportExpression > Literal.source[value=/^\\.\\.\\W(${folders})\\W/]`,
      message: message(`${folder}/`, "a folder above it or another feature, lazily or not"),
    },
  ];
}

// `x.push(...list)` and `Math.max(...list)` pass every element as an argument: past about
// 100 000 elements (a store's samples) that overflows the stack.
const NO_SPREAD_ARGUMENTS = [
  {
    selector: "CallExpression[callee.property.name=/^(push|unshift)$/] > SpreadElement",
    message: "Spreading into push/unshift overflows the stack on large arrays: use a loop.",
  },
  {
    selector: "CallExpression[callee.object.name='Math'][callee.property.name=/^(max|min)$/] > SpreadElement",
    message: "Spreading into Math.max/Math.min overflows the stack on large arrays: use a loop or reduce.",
  },
];

const layerRules = ["lib", "storage", "config", ...FEATURES].map((folder) => ({
  files: [`${folder}/**/*.ts`],
  ignores: folder === "storage" ? ["storage/cleanup-cli.ts"] : [`${folder}/cli.ts`],
  rules: {
    "@typescript-eslint/no-restricted-imports": ["error", { patterns: layerPatterns(folder) }],
    // One no-restricted-syntax per file: the bans of all production code, and the lazy imports.
    "no-restricted-syntax": ["error", ...NO_SPREAD_ARGUMENTS, ...lazyUpwardImport(folder)],
  },
}));

const nodeGlobals = Object.fromEntries(
  ["process", "console", "Buffer", "URL", "setTimeout", "clearTimeout", "fetch", "AbortSignal", "require"].map(
    (name) => [name, "readonly"],
  ),
);

export default tseslint.config(
  {
    ignores: [
      "dist/",
      "dist-builds/",
      "node_modules/",
      "public/",
      "test-artifacts/",
      "logs/",
      "storage/state/",
      "storage/remote/",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ["*.js", "scripts/*.mjs", "test/support/*.js", "test/support/*.cjs"] },
      },
      globals: nodeGlobals,
    },
    linterOptions: { reportUnusedDisableDirectives: "error" },
    rules: {
      // Control characters are what AMS strips from XML text and refuses in plugin output.
      "no-control-regex": "off",
      // State files are JSON objects keyed by mount point or alert key: dropping a key is the operation.
      "@typescript-eslint/no-dynamic-delete": "off",
      // With noUncheckedIndexedAccess, `map.get(k)!` after a check is the honest idiom, not a risk.
      "@typescript-eslint/no-non-null-assertion": "off",
      // Numbers and booleans read fine in messages; objects and undefined still may not slip in.
      "@typescript-eslint/restrict-template-expressions": ["error", { allowNumber: true, allowBoolean: true }],
      // `() => res.end()` and `return send(res, …)` in a void function are early returns, not confusion.
      "@typescript-eslint/no-confusing-void-expression": [
        "error",
        { ignoreArrowShorthand: true, ignoreVoidReturningFunctions: true },
      ],
    },
  },
  {
    // Production code only: a test's arrays are fixtures of known size.
    ignores: ["test/**"],
    rules: {
      "no-restricted-syntax": ["error", ...NO_SPREAD_ARGUMENTS],
    },
  },
  ...layerRules,
  {
    // Jest loads custom runners with require(): this one file is CommonJS.
    files: ["**/*.cjs"],
    languageOptions: { sourceType: "commonjs", globals: { require: "readonly", module: "writable" } },
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
  {
    files: ["test/**/*.ts"],
    rules: {
      // Tests parse command output and fixtures as JSON and assert on its shape: `any` is what they check.
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-call": "off",
      "@typescript-eslint/no-unsafe-return": "off",
      "@typescript-eslint/no-unsafe-argument": "off",
      // Fakes implement async interfaces without awaiting anything.
      "@typescript-eslint/require-await": "off",
      // expect(fake.method) hands a method over unbound on purpose.
      "@typescript-eslint/unbound-method": "off",
      // afterAll guards what a failed beforeAll may have left unset, which the types cannot say.
      "@typescript-eslint/no-unnecessary-condition": "off",
      // Tests check SVGs with the validator the CERT sensor uses; its successor is a package of its own.
      "@typescript-eslint/no-deprecated": "off",
      // Column-aligned command output reads better with its spaces than with {2}.
      "no-regex-spaces": "off",
      // Page text measured character by character in the browser test is ASCII.
      "@typescript-eslint/no-misused-spread": "off",
    },
  },
  {
    files: ["**/*.js", "**/*.mjs"],
    ...tseslint.configs.disableTypeChecked,
  },
);
