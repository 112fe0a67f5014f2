/**
 * The Slurm runner against a real one-node Slurm cluster on localhost (Debian slurm-wlm + munge,
 * set up by scripts/slurm_localhost.sh, started and stopped here): a small sweep submitted as a
 * job array, killed midway (driver and jobs), resumed, collected.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { expandSpec } from "../lib/sweep/spec.ts";
import { collect, resultPath, sweepStatus } from "../lib/sweep/store.ts";
import { PROJECT_ROOT } from "../lib/mod.ts";
import { cli, cliJson, spawnCli, tempDir, waitUntil } from "./helpers.ts";
import { runCommand } from "../lib/sweep/runners.ts";

const SCRIPT = join(PROJECT_ROOT, "scripts", "slurm_localhost.sh");
const run = runCommand;

// Root and apt (or an installed Slurm) are needed; say why when they are not there.
const wasUp = run("bash", SCRIPT, "status").ok;
const started = wasUp || run("bash", SCRIPT, "start");
const SLURM = wasUp || (typeof started === "object" && started.ok);
if (!SLURM) {
  console.warn(
    `Slurm integration test skipped: could not start a localhost cluster (${
      typeof started === "object" ? started.err.trim().split("\n").pop() : ""
    })`,
  );
}

Deno.test({
  name: "slurm runner: a job-array sweep killed midway resumes and collects the full table",
  ignore: !SLURM,
  sanitizeResources: false,
  async fn() {
    const dir = tempDir();
    const name = `slurmtest${Date.now() % 100000}`;
    const spec = join(dir, `${name}.json`);
    Deno.writeTextFileSync(
      spec,
      JSON.stringify({
        name,
        dataset: "synthetic",
        methods: ["knn", "ridge"],
        folds: ["P1_S1", "P2_S2", "P3_S1"],
      }),
    );
    const s = await expandSpec(spec);
    try {
      const dry = cli("sweep", spec, "--runner", "slurm", "--dry-run", "--max-parallel", "2");
      assert.equal(dry.code, 0, dry.stderr);
      assert.match(dry.stdout, /#SBATCH --array=0-5%2/);
      assert.match(dry.stdout, new RegExp(`#SBATCH --job-name=spahgc-${name}`));
      assert.equal(sweepStatus(s).done, 0, "a dry run submits nothing");

      // Submit, then kill the driver and cancel the array once one run has finished.
      const driver = spawnCli("sweep", spec, "--runner", "slurm", "--max-parallel", "1");
      await waitUntil(() => sweepStatus(s).done > 0, 300_000, "a first run on Slurm");
      driver.kill("SIGTERM");
      await driver.status;
      run("scancel", "--name", `spahgc-${name}`);
      await waitUntil(
        () => !run("squeue", "-h", "-n", `spahgc-${name}`).out.trim(),
        60_000,
        "the cancelled array to leave the queue",
      );
      const first = sweepStatus(s);
      assert.ok(first.done >= 1 && first.done < 6, `done after the kill: ${first.done}`);
      const finished = s.runs.filter((r) => !first.pending.includes(r));
      const mtimes = finished.map((r) => Deno.statSync(resultPath(s.dir, r.id)).mtime!.getTime());

      const report = cliJson("sweep", spec, "--runner", "slurm", "--max-parallel", "2", "--json");
      assert.equal(report.runner, "slurm");
      assert.equal(report.skipped, first.done);
      assert.equal(report.ran, 6 - first.done);
      assert.equal(report.jobs.length, 1);
      assert.deepEqual(
        finished.map((r) => Deno.statSync(resultPath(s.dir, r.id)).mtime!.getTime()),
        mtimes,
      );
      const { rows, missing } = collect(s);
      assert.equal(missing, 0);
      assert.equal(rows.length, 6);
      assert.ok(rows.every((r) => r.pcc > 0.1));
      const logs = [...Deno.readDirSync(join(s.dir, "slurm", "logs"))];
      assert.ok(logs.length >= 6 - first.done, "one Slurm log per array task");
    } finally {
      run("scancel", "--name", `spahgc-${name}`);
      if (!wasUp) run("bash", SCRIPT, "stop");
    }
  },
});
