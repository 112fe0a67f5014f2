/** `spahgc benchmark`. */
import { type BenchmarkRow, benchmarkTable, evaluateRun, type Run } from "../../eval/runs.ts";
import { pl, rowsOf } from "../../table/frame.ts";
import { exportTable, markdownTable } from "../../provenance/table.ts";
import { pccBarFigure, pccBoxFigure, runtimeFigure } from "../../plot/figures.ts";
import { closeRenderer } from "../../plot/export.ts";
import { type Command, json } from "../command.ts";
import { UsageError } from "../options.ts";
import { openRun, RUN_OPTIONS, writeFigure } from "../run_helpers.ts";

export const benchmarkCommand: Command = {
  usage:
    "spahgc benchmark <run-dir> <run-dir> … [--reference spahgc] [--dataset NAME] [--out DIR] [--json]",
  summary:
    "a method-comparison table over run folders: PCC/RMSE mean ± SD, Wilcoxon vs a reference method (BH), wall time",
  options: {
    ...RUN_OPTIONS,
    reference: { type: "string", help: "method the others are tested against (default spahgc)" },
  },
  async run(v) {
    const dirs = v.positionals;
    if (dirs.length < 2) throw new UsageError("need at least two run folders");
    const runs: Run[] = [];
    for (const d of dirs) runs.push(await openRun(d, v));
    const reference = v.str("reference") ?? "spahgc";
    const evals = runs.map((r) => evaluateRun(r));
    const { table, notes } = benchmarkTable(
      evals.map((e, i) => ({ evaluation: e, wallSeconds: runs[i].seconds ?? undefined })),
      reference,
    );
    if (v.flag("json")) json({ reference, rows: table.toRecords(), notes });
    else {
      console.log(markdownTable(table));
      for (const n of notes) console.error(`note: ${n}`);
    }
    if (v.str("out")) {
      const out = v.str("out")!;
      const params = { runs: dirs, reference, configs: runs.map((r) => r.config) };
      const files = exportTable(table, out, "benchmark", {
        title: `Methods compared (reference: ${reference})`,
        params,
        notes,
      }).files;
      const pts = evals.flatMap((e) =>
        e.slices.map((s) => ({ method: e.method, slice: s.test, pcc: s.pcc }))
      );
      files.push(
        ...await writeFigure(
          pccBarFigure(pts, { title: "Per-slice PCC" }),
          out,
          "benchmark_bars",
          params,
          notes,
        ),
        ...await writeFigure(
          pccBoxFigure(pts, { title: "Per-slice PCC" }),
          out,
          "benchmark_box",
          params,
          notes,
        ),
      );
      const timed = rowsOf<BenchmarkRow>(table.filter(pl.col("wallSeconds").isNotNull()));
      if (timed.length) {
        files.push(
          ...await writeFigure(
            runtimeFigure(timed.map((r) => ({ method: r.method, seconds: r.wallSeconds! }))),
            out,
            "benchmark_runtime",
            params,
            ["seconds: training + prediction summed over folds, from each run's metrics files"],
          ),
        );
      }
      await closeRenderer();
      if (!v.flag("json")) console.log(`wrote ${files.join(", ")}`);
    }
    return 0;
  },
};
