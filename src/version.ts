// Replaced at bundle time by esbuild's `define`; read from package.json when running from source.
declare const __HOLDFAST_VERSION__: string | undefined;

export const VERSION: string = typeof __HOLDFAST_VERSION__ === "string" ? __HOLDFAST_VERSION__ : "0.0.0-dev";

// The build's fingerprint: a hash of every source file and the locked dependencies, set at
// bundle time. A config validated by one build is trusted again by that build alone
// (src/config/snapshot.ts); from source, by the process that validated it.
declare const __HOLDFAST_BUILD__: string | undefined;

export const BUILD: string =
  typeof __HOLDFAST_BUILD__ === "string" ? __HOLDFAST_BUILD__ : `dev-${process.pid}`;
