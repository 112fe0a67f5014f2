/** `spahgc compare`. */
import { compareRuns, evaluateRun } from "../../eval/runs.ts";
import type { Alternative } from "../../eval/stats.ts";
import { exportTable, markdownTable } from "../../provenance/table.ts";
import { pccBarFigure, pccBoxFigure } from "../../plot/figures.ts";
import { closeRenderer } from "../../plot/export.ts";
import { type Command, json } from "../command.ts";
import { UsageError } from "../options.ts";
import { openRun, RUN_OPTIONS, runParams, writeFigure } from "../run_helpers.ts";

export const compareCommand: Command = {
  usage:
    "spahgc compare <run-a> <run-b> [--alternative two-sided|greater|less] [--out DIR] [--json]",
  summary:
    "paired Wilcoxon signed-rank test of per-slice PCC between two runs on their shared test slices",
  options: {
    ...RUN_OPTIONS,
    alternative: {
      type: "string",
      help: "two-sided (default) | greater (a > b) | less, as scipy.stats.wilcoxon",
    },
  },
  async run(v) {
    const [a, b] = v.positionals;
    if (!a || !b) throw new UsageError("need two run folders");
    const alt = v.choice<Alternative>("alternative", ["two-sided", "greater", "less"], "two-sided");
    const [ra, rb] = [await openRun(a, v), await openRun(b, v)];
    const [ea, eb] = [evaluateRun(ra), evaluateRun(rb)];
    const c = compareRuns(ea, eb, alt);
    const rows = c.slices.map((s, i) => ({
      slice: s,
      [`pcc_${ea.method}_a`]: c.pccA[i],
      [`pcc_${eb.method}_b`]: c.pccB[i],
      difference: c.pccA[i] - c.pccB[i],
    }));
    if (v.flag("json")) json({ ...c, methodA: ea.method, methodB: eb.method });
    else {
      console.log(`a = ${ea.method} (${a}), b = ${eb.method} (${b})`);
      console.log(markdownTable(rows));
      console.log(
        `mean difference (a − b) ${
          c.meanDifference.toFixed(4)
        }; Wilcoxon signed-rank (${alt}, ${c.test.method}): statistic ${c.test.statistic}, p = ${
          c.test.pValue.toPrecision(4)
        }, n = ${c.slices.length}`,
      );
      for (const n of c.notes) console.error(`note: ${n}`);
    }
    if (v.str("out")) {
      const out = v.str("out")!;
      const params = { a: runParams(ra), b: runParams(rb), alternative: alt, test: c.test };
      const notes = [
        `Wilcoxon signed-rank (${alt}, ${c.test.method}): statistic ${c.test.statistic}, p = ${c.test.pValue}`,
        ...c.notes,
      ];
      const files = exportTable(rows, out, "comparison", {
        title: `${ea.method} (a) vs ${eb.method} (b): per-slice PCC`,
        params,
        notes,
      }).files;
      const label = (m: string, tag: string) => (ea.method === eb.method ? `${m} (${tag})` : m);
      const pts = c.slices.flatMap((s, i) => [
        { method: label(ea.method, "a"), slice: s, pcc: c.pccA[i] },
        { method: label(eb.method, "b"), slice: s, pcc: c.pccB[i] },
      ]);
      files.push(
        ...await writeFigure(
          pccBoxFigure(pts, { title: `p = ${c.test.pValue.toPrecision(3)} (${alt})` }),
          out,
          "comparison_box",
          params,
          notes,
        ),
        ...await writeFigure(pccBarFigure(pts), out, "comparison_bars", params, notes),
      );
      await closeRenderer();
      if (!v.flag("json")) console.log(`wrote ${files.join(", ")}`);
    }
    return 0;
  },
};
