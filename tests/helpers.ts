/** Shared test helpers: temp dirs, Debian's python3 for independent reference values, data paths. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DATASETS, PROJECT_ROOT, resolveDatasetDir } from "../lib/mod.ts";

/** Debian's interpreter (with python3-anndata/scipy from the bootstrap), not a pyenv shim. */
export const PYTHON = "/usr/bin/python3";

/** Whether Debian's python3 imports these modules (a comma list). */
export function pythonHas(mods: string): boolean {
  try {
    return new Deno.Command(PYTHON, {
      args: ["-c", `import ${mods}`],
      stdout: "null",
      stderr: "null",
    }).outputSync().success;
  } catch {
    return false;
  }
}

export const HAVE_ANNDATA = pythonHas("anndata, scipy, numpy, pandas, sklearn");
if (!HAVE_ANNDATA) {
  console.warn(
    "python3-anndata missing: Python interoperability tests are skipped (run scripts/bootstrap.sh)",
  );
}

/** Runs a Python snippet; returns stdout, throws with stderr on failure. */
export function python(code: string, ...args: string[]): string {
  const r = new Deno.Command(PYTHON, {
    args: ["-c", code, ...args],
    stdout: "piped",
    stderr: "piped",
    env: { PYDEVD_DISABLE_FILE_VALIDATION: "1" },
  }).outputSync();
  if (!r.success) throw new Error(`python failed:\n${new TextDecoder().decode(r.stderr)}`);
  return new TextDecoder().decode(r.stdout);
}

/** The HER2+ folder, or undefined (tests then skip with a notice). */
export const HER2ST_DIR: string | undefined = (() => {
  try {
    return resolveDatasetDir(DATASETS.find((d) => d.name === "her2st")!);
  } catch {
    console.warn("HER2+ data not found: real-data tests are skipped (see README, 'Data')");
    return undefined;
  }
})();

export const VISIUM_TINY_DIR: string | undefined = (() => {
  try {
    return resolveDatasetDir(DATASETS.find((d) => d.name === "visium_tiny")!);
  } catch {
    return undefined;
  }
})();

export function tempDir(): string {
  const dir = Deno.makeTempDirSync({ prefix: "spahgc-test-" });
  createdDirs.push(dir);
  return dir;
}

// Temporary folders are removed when the test module's process ends (the paper-notebook tests
// alone leave ~4 GB of runs and checkpoints); SPAHGC_KEEP_TEST_DIRS=1 keeps them for inspection.
const createdDirs: string[] = [];
globalThis.addEventListener("unload", () => {
  if (Deno.env.get("SPAHGC_KEEP_TEST_DIRS") === "1") return;
  for (const dir of createdDirs) {
    try {
      Deno.removeSync(dir, { recursive: true });
    } catch {
      // already removed by its test
    }
  }
});

export function writeText(dir: string, rel: string, text: string): string {
  const p = join(dir, rel);
  Deno.mkdirSync(join(p, ".."), { recursive: true });
  Deno.writeTextFileSync(p, text);
  return p;
}

/** Asserts that `fn` throws an error whose message contains every fragment. */
export async function throwsWith(fn: () => unknown, ...fragments: string[]): Promise<Error> {
  let err: Error | undefined;
  try {
    await fn();
  } catch (e) {
    err = e as Error;
  }
  if (!err) throw new Error(`expected an error mentioning ${fragments.join(", ")}`);
  for (const f of fragments) {
    if (!err.message.includes(f)) throw new Error(`error message lacks '${f}': ${err.message}`);
  }
  return err;
}

/** Runs the `spahgc` CLI in a subprocess (colours off); exit code and both streams. */
export function cli(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", join(PROJECT_ROOT, "lib/cli/main.ts"), ...args],
    stdout: "piped",
    stderr: "piped",
    // `train` without --out keeps its run under $SPAHGC_RUNS_DIR: a fresh folder per call, so
    // no test resumes another's run.
    env: { NO_COLOR: "1", SPAHGC_RUNS_DIR: tempDir() },
  }).outputSync();
  return {
    code: r.code,
    stdout: new TextDecoder().decode(r.stdout),
    stderr: new TextDecoder().decode(r.stderr),
  };
}

/** Runs the `spahgc` CLI with `--json` among `args`; fails the test with its stderr unless it exits 0. */
// deno-lint-ignore no-explicit-any -- the parsed report, as JSON.parse gives it
export function cliJson(...args: string[]): any {
  const r = cli(...args);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

/**
 * Runs TypeScript in a fresh Deno process (`deno eval`; a backend or native-kernel setting then
 * starts from scratch) and returns the last line it printed; its stderr is the error if it fails.
 */
export function denoEval(code: string, env: Record<string, string> = {}): string {
  const r = new Deno.Command(Deno.execPath(), {
    args: ["eval", code],
    env,
    stdout: "piped",
    stderr: "piped",
  }).outputSync();
  if (!r.success) throw new Error(new TextDecoder().decode(r.stderr));
  return new TextDecoder().decode(r.stdout).trim().split("\n").pop()!;
}

/** Starts the `spahgc` CLI in the background (output discarded), e.g. to kill it midway. */
export function spawnCli(...args: string[]): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", join(PROJECT_ROOT, "lib/cli/main.ts"), ...args],
    stdout: "null",
    stderr: "null",
  }).spawn();
}

/** Polls `cond` every 200 ms until it holds; fails after `timeoutMs` naming what was awaited. */
export async function waitUntil(cond: () => boolean, timeoutMs: number, what: string) {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
