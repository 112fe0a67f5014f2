// Prints the npm spec of nodejs-polars' native package for this platform (e.g.
// `nodejs-polars-linux-x64-gnu@0.25.2`) when it is not installed yet, and nothing when it is.
// Why this exists: nodejs-polars lists its native builds as optional dependencies, and those ask
// for Node >= 22 in `engines`; npm on Node 20 treats an optional dependency that fails its engine
// check as unavailable and skips it without a word, leaving `import "nodejs-polars"` to fail at
// run time. The bootstrap installs the one for this machine explicitly (npm then only warns).
"use strict";
const { readFileSync } = require("node:fs");
const { join } = require("node:path");

const root = join(__dirname, "..", "node_modules");
const polars = JSON.parse(readFileSync(join(root, "nodejs-polars", "package.json"), "utf8"));

function isMusl() {
  // glibc's runtime reports its version; musl has none (the same test nodejs-polars itself makes).
  const report = process.report && process.report.getReport();
  return !(report && report.header && report.header.glibcVersionRuntime);
}

const { platform, arch } = process;
const suffix = platform === "linux"
  ? `linux-${arch}-${isMusl() ? "musl" : "gnu"}`
  : platform === "win32"
  ? `win32-${arch}-msvc`
  : `${platform}-${arch}`;
const name = `nodejs-polars-${suffix}`;
const version = (polars.optionalDependencies || {})[name];
if (!version) {
  console.error(`nodejs-polars ${polars.version} ships no native build for ${suffix}`);
  process.exit(1);
}
try {
  const installed = JSON.parse(readFileSync(join(root, name, "package.json"), "utf8"));
  if (installed.version === version) process.exit(0);
} catch {
  // not installed: print the spec below
}
console.log(`${name}@${version}`);
