/**
 * `deno task bench --only tables` (or `deno run -A bench/tables/run.ts [--seeds N] [--runs R]`):
 * the paper's Q/K/α/β sweep store — four sweeps of nine values each over the six folds of a
 * cohort, `--seeds` seeds per point (default 1: 216 runs, one test slice each) — collected into
 * Parquet, read back and summarised per value into the Tables S3–S5 table (CSV + Markdown),
 * once the way it was done before tables were polars DataFrames (`before.ts`: hyparquet-writer,
 * hyparquet, loops over row objects) and once through the library (`collect`, `readResults`,
 * a polars `groupBy`, `exportTable`), alternating, medians of `--runs`. Both must give the same
 * summary (checked to 1e-12). The result JSONs are written once, with random metrics.
 * Prints one JSON line: seconds per pipeline, the ratio after / before, rows.
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { type ExpandedSweep, expandSpec } from "../../lib/sweep/spec.ts";
import { collect, readResults, rowsFor, writeResult } from "../../lib/sweep/store.ts";
import { exportTable } from "../../lib/provenance/table.ts";
import { pl, rowsOf } from "../../lib/table/frame.ts";
import { Rng } from "../../lib/util/random.ts";
import { collectBefore, exportBefore, readBefore, summaryBefore } from "./before.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { seeds: { type: "string", default: "1" }, runs: { type: "string", default: "5" } },
});
const AXES: Record<string, number[]> = {
  Q: [1, 2, 3, 4, 5, 6, 7, 8, 9],
  K: [1, 2, 3, 4, 5, 6, 7, 8, 9],
  alpha: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9],
  beta: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9],
};
const dir = Deno.makeTempDirSync({ prefix: "spahgc-bench-tables-" });
const rng = new Rng(7);
const sweeps: { p: string; vals: number[]; s: ExpandedSweep }[] = [];
let runs = 0;
for (const [p, vals] of Object.entries(AXES)) {
  const specPath = join(dir, `${p}.json`);
  Deno.writeTextFileSync(
    specPath,
    JSON.stringify({
      name: `S3_S5_${p}`,
      dataset: "synthetic",
      methods: ["spahgc"],
      grid: { [p]: vals },
      seeds: Array.from({ length: Number(values.seeds) }, (_, i) => i),
      epochs: 200,
      out: `${p}.sweep`,
    }),
  );
  const s = await expandSpec(specPath);
  for (const r of s.runs) {
    writeResult(s.dir, r.id, [{
      ...rowsFor(r, s.spec.name),
      test: r.fold,
      pcc: 0.2 + 0.05 * rng.normal(),
      rmse: 2 + 0.1 * rng.normal(),
      top50: 0.4 + 0.05 * rng.normal(),
      genesExcluded: 0,
      seconds: 300 + 10 * rng.normal(),
      backend: "wasm-blas",
    }]);
  }
  runs += s.runs.length;
  sweeps.push({ p, vals, s });
}

type Summary = {
  parameter: string;
  value: number;
  pcc: number;
  std: number;
  rmse: number;
  n: number;
};

async function before(): Promise<Summary[]> {
  const out: Summary[] = [];
  for (const { p, vals, s } of sweeps) {
    const rows = await readBefore(collectBefore(s));
    const sum = summaryBefore(rows, p, vals);
    exportBefore(sum, s.dir, "summary_before");
    out.push(...sum);
  }
  return out;
}

function after(): Summary[] {
  const out: Summary[] = [];
  for (const { p, s } of sweeps) {
    const { file } = collect(s);
    const sum = readResults(file).groupBy(p).agg(
      pl.col("pcc").mean().alias("pcc"),
      pl.col("pcc").std().alias("std"),
      pl.col("rmse").mean().alias("rmse"),
      pl.col("pcc").count().cast(pl.Int32).alias("n"),
    ).select(pl.lit(p).alias("parameter"), pl.col(p).alias("value"), "pcc", "std", "rmse", "n")
      .sort("value");
    exportTable(sum, s.dir, "summary_after", { digits: 3 });
    out.push(...rowsOf<Summary>(sum));
  }
  return out;
}

const tBefore: number[] = [], tAfter: number[] = [];
let a: Summary[] = [], b: Summary[] = [];
for (let i = 0; i < Number(values.runs); i++) {
  let t0 = performance.now();
  b = await before();
  tBefore.push((performance.now() - t0) / 1000);
  t0 = performance.now();
  a = after();
  tAfter.push((performance.now() - t0) / 1000);
}
if (a.length !== b.length) {
  throw new Error(`summaries differ in length: ${a.length} vs ${b.length}`);
}
for (let i = 0; i < a.length; i++) {
  for (const k of ["pcc", "std", "rmse"] as const) {
    if (Math.abs(a[i][k] - b[i][k]) > 1e-12 || a[i].n !== b[i].n || a[i].value !== b[i].value) {
      throw new Error(
        `summary row ${i} differs: ${JSON.stringify(a[i])} vs ${JSON.stringify(b[i])}`,
      );
    }
  }
}
const median = (v: number[]) => [...v].sort((x, y) => x - y)[Math.floor(v.length / 2)];
console.log(JSON.stringify({
  measurement: "sweep tables",
  sweeps: sweeps.length,
  runs,
  rows: runs,
  summaryRows: a.length,
  beforeSeconds: median(tBefore),
  afterSeconds: median(tAfter),
  ratioAfterOverBefore: median(tAfter) / median(tBefore),
  repeats: tBefore.length,
}));
Deno.removeSync(dir, { recursive: true });
