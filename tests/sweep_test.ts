/** Sweeps: spec expansion, the local worker pool killed midway and resumed, the Parquet store. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { expandSpec, gridPoints } from "../lib/sweep/spec.ts";
import {
  collect,
  readResults,
  resultPath,
  type ResultRow,
  sweepStatus,
} from "../lib/sweep/store.ts";
import { rowsOf } from "../lib/table/frame.ts";
import { cli, cliJson, spawnCli, tempDir, throwsWith, waitUntil } from "./helpers.ts";

const writeSpec = (dir: string, spec: Record<string, unknown>) => {
  const p = join(dir, `${spec.name}.json`);
  Deno.writeTextFileSync(p, JSON.stringify(spec));
  return p;
};

Deno.test("a spec expands into (method, grid point, seed, fold) runs with stable, shared ids", async () => {
  assert.equal(gridPoints({ Q: [1, 2, 3], alpha: [0.5, 0.8] }).length, 6);
  assert.deepEqual(gridPoints(), [{}]);
  const dir = tempDir();
  const base = {
    dataset: "synthetic",
    methods: ["spahgc", "ridge"],
    grid: { Q: [3, 5], alpha: [0.8] },
    seeds: [0, 1],
    folds: ["P1_S1", "P2_S1"],
  };
  const a = await expandSpec(writeSpec(dir, { name: "a", ...base }));
  assert.equal(a.runs.length, 2 * 2 * 2 * 2);
  assert.equal(new Set(a.runs.map((r) => r.id)).size, a.runs.length, "ids are unique");
  const again = await expandSpec(writeSpec(dir, { name: "a", ...base }));
  assert.deepEqual(again.runs.map((r) => r.id), a.runs.map((r) => r.id), "ids are stable");
  const b = await expandSpec(
    writeSpec(dir, { name: "b", ...base, grid: { Q: [5], alpha: [0.8] } }),
  );
  const shared = b.runs.filter((r) => a.runs.some((x) => x.id === r.id));
  assert.equal(shared.length, b.runs.length, "the same run in another sweep has the same id");
  // The default point of a Q sweep and of a K sweep is one run.
  const qDefault = await expandSpec(
    writeSpec(dir, {
      name: "q",
      dataset: "synthetic",
      methods: ["spahgc"],
      grid: { Q: [5] },
      folds: ["P1_S1"],
    }),
  );
  const kDefault = await expandSpec(
    writeSpec(dir, {
      name: "k",
      dataset: "synthetic",
      methods: ["spahgc"],
      grid: { K: [7] },
      folds: ["P1_S1"],
    }),
  );
  assert.equal(qDefault.runs[0].id, kDefault.runs[0].id);
  const q3 = a.runs.find((r) => r.point.Q === 3 && r.method === "spahgc")!;
  assert.equal(q3.options.graph?.Q, 3);
  assert.equal(q3.options.config?.alpha, 0.8);
  // Folds from the dataset when not listed: the synthetic cohort's six slices.
  const c = await expandSpec(
    writeSpec(dir, { name: "c", dataset: "synthetic", methods: ["ridge"] }),
  );
  assert.equal(c.runs.length, 6);
  await throwsWith(
    () => expandSpec(writeSpec(dir, { name: "d", ...base, grid: { lambda: [1] } })),
    "d.json",
    "grid axis 'lambda' is unknown",
  );
  await throwsWith(
    () => expandSpec(writeSpec(dir, { name: "e", dataset: "synthetic", methods: [] })),
    "at least one method",
  );
});

Deno.test("local runner: a sweep killed midway resumes without redoing finished runs; results land in Parquet", async () => {
  const dir = tempDir();
  const spec = writeSpec(dir, {
    name: "resume",
    dataset: "synthetic",
    methods: ["knn", "ridge"],
    folds: ["P1_S1", "P2_S2", "P3_S1"],
  });
  const s = await expandSpec(spec);
  assert.equal(s.runs.length, 6);
  // First attempt, one worker: stop it (SIGTERM) as soon as one run has finished.
  const driver = spawnCli("sweep", spec, "--runner", "local", "--max-parallel", "1");
  await waitUntil(() => sweepStatus(s).done > 0, 300_000, "a first local run");
  driver.kill("SIGTERM");
  assert.equal(
    (await driver.status).code,
    1,
    "an interrupted sweep reports failure, keeping what finished",
  );
  const first = sweepStatus(s);
  assert.ok(first.done >= 1 && first.done < 6, `done after the kill: ${first.done}`);
  const finished = s.runs.filter((r) => !first.pending.includes(r));
  const mtimes = finished.map((r) => Deno.statSync(resultPath(s.dir, r.id)).mtime!.getTime());
  // Resume with two workers: only the pending runs are executed.
  const report = cliJson("sweep", spec, "--runner", "local", "--max-parallel", "2", "--json");
  assert.equal(report.skipped, first.done);
  assert.equal(report.ran, 6 - first.done);
  assert.deepEqual(
    finished.map((r) => Deno.statSync(resultPath(s.dir, r.id)).mtime!.getTime()),
    mtimes,
    "finished runs untouched",
  );
  // Collect: one row per run (one test slice per fold), read back from Parquet.
  const { rows, missing, file } = collect(s);
  assert.equal(missing, 0);
  assert.equal(rows.length, 6);
  const back = readResults(file);
  assert.equal(back.height, 6);
  assert.deepEqual(back.columns.slice(0, 5), ["id", "sweep", "method", "fold", "test"]);
  const backRows = rowsOf<ResultRow>(back);
  for (const r of rows) {
    const b = backRows.find((x) => x.id === r.id && x.test === r.test)!;
    assert.equal(b.method, r.method);
    assert.ok(Math.abs(b.pcc - r.pcc) < 1e-12);
    assert.ok(r.pcc > 0.1, `${r.method} on ${r.test}: ${r.pcc}`);
  }
  const col = cli("sweep", "collect", spec, "--json");
  assert.equal(col.code, 0, col.stderr);
  assert.equal(JSON.parse(col.stdout).summary.length, 2);
  const st = JSON.parse(cli("sweep", "status", spec, "--json").stdout);
  assert.equal(st.done, 6);
  assert.equal(cli("sweep", spec, "--runner", "cloud").code, 2);
});
