/** `spahgc evaluate`. */
import { evaluateRun, geneTable, sliceTable } from "../../eval/runs.ts";
import { pl, rowsOf } from "../../table/frame.ts";
import { exportTable, markdownTable } from "../../provenance/table.ts";
import { pccBarFigure, pccBoxFigure } from "../../plot/figures.ts";
import { closeRenderer } from "../../plot/export.ts";
import { type Command, json } from "../command.ts";
import {
  backgroundFor,
  evaluateSeeds,
  geneMap,
  openRun,
  RUN_OPTIONS,
  runParams,
  writeFigure,
} from "../run_helpers.ts";

export const evaluateCommand: Command = {
  usage:
    "spahgc evaluate <run-dir> [<run-dir> …] [--dataset NAME] [--out DIR [--genes ERBB2,FASN]] [--json]",
  summary:
    "per-slice PCC, RMSE, top-50 PCC recomputed from run folders; several folders = seeds, also mean ± SD over seeds",
  options: {
    ...RUN_OPTIONS,
    genes: {
      type: "string",
      help: "with --out: spatial maps (measured vs predicted) of these genes on every test slice",
    },
  },
  async run(v) {
    const dirs = v.positionals;
    if (dirs.length > 1) return await evaluateSeeds(dirs, v);
    const run = await openRun(dirs[0], v);
    const ev = evaluateRun(run);
    if (v.flag("json")) {
      const { perGene: _perGene, ...summary } = ev;
      json(summary);
    } else {
      console.log(`${ev.method} — ${ev.dir}`);
      console.log(markdownTable(sliceTable(ev).drop("method", "run")));
      console.log(
        `mean PCC ${ev.mean.pcc.toFixed(4)} ± ${ev.std.pcc.toFixed(4)}, RMSE ${
          ev.mean.rmse.toFixed(4)
        } ± ${ev.std.rmse.toFixed(4)}, top-50 PCC ${
          ev.mean.top50.toFixed(4)
        } (per slice, not pooled)`,
      );
      for (const n of ev.notes) console.error(`note: ${n}`);
    }
    if (v.str("out")) {
      const out = v.str("out")!;
      const files = exportTable(
        sliceTable(ev).drop("method", "run"),
        out,
        "metrics",
        { title: `${ev.method}: per-slice metrics`, params: runParams(run), notes: ev.notes },
      ).files;
      files.push(
        ...await writeFigure(
          pccBarFigure(ev.slices.map((s) => ({ method: ev.method, slice: s.test, pcc: s.pcc })), {
            title: `${ev.method}: per-slice PCC`,
          }),
          out,
          "pcc_per_slice",
          runParams(run),
        ),
      );
      // Per-gene r, genes × test slices (a gene not evaluated on a slice is left empty).
      const perGene = geneTable(ev);
      const perGeneWide = perGene.pivot("r", { index: "gene", on: "test", maintainOrder: true });
      files.push(
        ...exportTable(perGeneWide, out, "per_gene_pcc", {
          title: `${ev.method}: per-gene Pearson r on each test slice (NaN = constant gene)`,
          params: runParams(run),
        }).files,
        ...await writeFigure(
          pccBoxFigure(
            rowsOf<{ test: string; gene: string; r: number }>(
              perGene.filter(pl.col("r").isNotNan()),
            ).map((g) => ({ method: g.test, slice: g.gene, pcc: g.r })),
            {
              title: `${ev.method}: per-gene PCC by test slice`,
              points: false,
              yLabel: "per-gene r",
            },
          ),
          out,
          "per_gene_pcc",
          runParams(run),
        ),
      );
      for (const gene of v.list("genes") ?? []) {
        for (const s of run.slices) {
          files.push(
            ...await writeFigure(
              geneMap(s, gene, run.method, await backgroundFor(v, s.test)),
              out,
              `map_${gene}_${s.test}`,
              { ...runParams(run), gene, slice: s.test },
            ),
          );
        }
      }
      await closeRenderer();
      if (!v.flag("json")) console.log(`wrote ${files.join(", ")}`);
    }
    return 0;
  },
};
