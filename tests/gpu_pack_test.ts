/**
 * The GPU pack (`bench/gpu/pack.ts`) runs from the pack alone: built here on the synthetic cohort,
 * copied away from the project and run with an empty environment, it trains SpaHGC and reports.
 * (On a lent GPU the same pack runs with `--backend webgpu`; see docs/performance.md.)
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { PROJECT_ROOT } from "../lib/paths.ts";
import { tempDir } from "./helpers.ts";

Deno.test("the GPU pack is self-contained: built, moved away from the project, it trains and reports", () => {
  const build = tempDir(), away = tempDir();
  const b = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      join(PROJECT_ROOT, "bench/gpu/pack.ts"),
      "--dataset",
      "synthetic",
      "--slices",
      "P1_S1,P2_S1,P3_S1",
      "--compress",
      "gzip",
      "--out",
      join(build, "pack"),
    ],
    stdout: "piped",
    stderr: "piped",
  }).outputSync();
  assert.ok(b.success, new TextDecoder().decode(b.stderr));
  const manifest = JSON.parse(Deno.readTextFileSync(join(build, "pack", "manifest.json")));
  assert.ok(manifest.totalMiB < 64, `${manifest.totalMiB} MiB: over the device's 64 MiB`);
  assert.deepEqual(manifest.slices, ["P1_S1", "P2_S1", "P3_S1"]);
  // Moved: nothing of the project is reachable from where it runs.
  Deno.renameSync(join(build, "pack"), join(away, "pack"));
  const r = new Deno.Command("sh", {
    args: [join(away, "pack", "run.sh"), "--backend", "cpu", "--epochs", "1", "--folds", "P2_S1"],
    cwd: away,
    clearEnv: true,
    env: { PATH: "/usr/bin:/bin", HOME: away, TMPDIR: away },
    stdout: "piped",
    stderr: "piped",
  }).outputSync();
  assert.ok(r.success, new TextDecoder().decode(r.stderr));
  const rep = JSON.parse(new TextDecoder().decode(r.stdout).trim().split("\n").at(-1)!);
  assert.equal(rep.backend, "cpu");
  assert.deepEqual(rep.folds.map((f: { test: string }) => f.test), ["P2_S1"]);
  assert.ok(Number.isFinite(rep.folds[0].pcc) && rep.secondsPerEpoch > 0, JSON.stringify(rep));
  assert.equal(rep.genes, manifest.genes);
});
