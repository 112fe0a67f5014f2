/**
 * HER2+ B4, C2–C6 as a HEST-Benchmark task (from the HEST root `bench/hest/run.ts` writes):
 * three splits of two sections each, the 50 genes of highest log1p-count variance among the
 * 785 — then `hest-bench` on it: HEST's probe and the project's methods, both readings.
 * Args: HEST_ROOT TASK_DIR OUT_DIR [EPOCHS] [RESULTS_DIR]: the table (with what it shows, computed
 * from the numbers) also goes to RESULTS_DIR/hest_bench_her2st.{md,csv,manifest.json}.
 */
import { loadDataset, WarningLog } from "../../lib/mod.ts";
import { defaultGeneParams } from "../../lib/datasets/registry.ts";
import { selectGenes } from "../../lib/preprocess/hvg.ts";
import { runHestBenchmark } from "../../lib/train/hest_benchmark.ts";
import { exportTable, markdownTable } from "../../lib/provenance/table.ts";
import { writeHestBenchTask } from "../../lib/datasets/hest_export.ts";

const [root, task, out, epochs = "50", results] = Deno.args;
const splits = [["B4", "C2"], ["C3", "C4"], ["C5", "C6"]];
const all = await loadDataset("her2st", { log: new WarningLog(false) });
const genes785 = selectGenes(all.slices, defaultGeneParams("her2st")).genes;
const hest = await loadDataset(root, { log: new WarningLog(false) });
// Variance of log1p counts over the six sections' spots, per gene.
const stats = genes785.map((g) => {
  let n = 0, s = 0, ss = 0;
  for (const sl of hest.slices) {
    const j = sl.genes.indexOf(g);
    const dense = new Float64Array(sl.counts.nRows);
    for (let r = 0; r < sl.counts.nRows; r++) {
      for (let k = sl.counts.indptr[r]; k < sl.counts.indptr[r + 1]; k++) {
        if (sl.counts.indices[k] === j) dense[r] = Math.log1p(sl.counts.data[k]);
      }
    }
    for (const v of dense) {
      n++;
      s += v;
      ss += v * v;
    }
  }
  return { g, v: ss / n - (s / n) ** 2 };
});
const genes = stats.sort((a, b) => b.v - a.v).slice(0, 50).map((x) => x.g);
writeHestBenchTask(root, task, splits, genes);
const t0 = performance.now();
const r = await runHestBenchmark({
  task,
  methods: ["ridge", "spahgc"],
  options: { epochs: Number(epochs) },
  out,
  log: () => {},
});
const seconds = (performance.now() - t0) / 1000;
type Row = { method: string; hestPcc: number; perSlicePcc: number };
const rows = r.table.toRecords() as unknown as Row[];
const probeHest = rows[0], probeOurs = rows[1];
const shows = [
  `HEST's targets (log1p of raw counts) give the same probe ${
    probeHest.hestPcc.toFixed(3)
  } against ${
    probeOurs.hestPcc.toFixed(3)
  } on ln(1 + CPM): without library-size normalisation much of what is predicted is each spot's sequencing depth`,
  ...rows.slice(1).map((x) =>
    `${x.method}: pooled − per-slice = ${(x.hestPcc - x.perSlicePcc).toFixed(3)}`
  ),
  `data: HER2+ B4, C2–C6 written in HEST's layout (bench/hest/run.ts), three splits ${
    splits.map((s) => s.join("+")).join(", ")
  }, the 50 genes of highest log1p-count variance among the 785; built-in encoder; methods ${epochs} epochs where they train`,
];
for (const dir of [out, ...(results ? [results] : [])]) {
  exportTable(r.table, dir, dir === out ? "hest_bench" : "hest_bench_her2st", {
    title: "HER2+ as a HEST-Benchmark task: both readings on the same predictions",
    params: { task, splits, genes, epochs: Number(epochs) },
    notes: [...r.notes, ...shows],
    digits: 4,
  });
}
console.log(markdownTable(r.table, { digits: 4 }));
console.log(JSON.stringify({
  seconds,
  rows: r.table.toRecords(),
  perSplit: Object.fromEntries(
    Object.entries(r.splits).map((
      [m, ss],
    ) => [m, ss.map((s) => ({ split: s.split, pooled: s.pooled, perSlice: s.perSlice }))]),
  ),
  probe: r.probe,
}));
