/** `spahgc cluster`. */
import { DataError } from "../../errors.ts";
import { type ClusterAlgorithm, tumourLocalisation } from "../../eval/clustering.ts";
import { exportTable } from "../../provenance/table.ts";
import { clusterMapFigure } from "../../plot/figures.ts";
import { closeRenderer } from "../../plot/export.ts";
import { type Command, json } from "../command.ts";
import {
  backgroundFor,
  openRun,
  pickSlice,
  RUN_OPTIONS,
  runParams,
  TUMOUR_OPTIONS,
  writeFigure,
} from "../run_helpers.ts";

export const clusterCommand: Command = {
  usage:
    "spahgc cluster <run-dir> [--slice S] [--labels pathologist] [--algorithm kmeans|louvain] [--out DIR] [--json]",
  summary:
    "tumour localisation: cluster predicted and measured expression, ARI against tumour / non-tumour labels",
  options: {
    ...RUN_OPTIONS,
    ...TUMOUR_OPTIONS,
    algorithm: {
      type: "string",
      choices: ["kmeans", "louvain"],
      help: "kmeans (default, k = 2) | louvain",
    },
    k: { type: "integer", min: 2, help: "k-means clusters (default 2)" },
    resolution: { type: "number", min: Number.MIN_VALUE, help: "Louvain resolution (default 1)" },
    seed: { type: "integer", help: "seed (default 0)" },
  },
  async run(v) {
    const [dir] = v.positionals;
    const run = await openRun(dir, v);
    const s = pickSlice(run, v.str("slice"));
    const key = v.str("labels") ?? "pathologist";
    const labels = s.labels[key];
    if (!labels) {
      throw new DataError(
        `slice ${s.test} has no '${key}' labels (has: ${
          Object.keys(s.labels).join(", ") || "none"
        })`,
        { file: s.file },
      );
    }
    const algorithm = v.choice<ClusterAlgorithm>("algorithm", ["kmeans", "louvain"], "kmeans");
    const r = tumourLocalisation(s.predicted, s.measured, s.genes.length, labels, {
      tumourLabels: v.list("tumour"),
      algorithm,
      k: v.int("k") ?? 2,
      resolution: v.num("resolution") ?? 1,
      seed: v.int("seed") ?? 0,
    });
    const summary = {
      run: run.dir,
      method: run.method,
      slice: s.test,
      labels: key,
      ariPredicted: r.ariPredicted,
      ariMeasured: r.ariMeasured,
      spots: r.spots,
      excluded: r.excluded,
      clustering: r.method,
    };
    if (v.flag("json")) json(summary);
    else {
      console.log(
        `${s.test}: ARI predicted (${run.method}) ${
          r.ariPredicted.toFixed(4)
        }, measured (ceiling) ${
          r.ariMeasured.toFixed(4)
        } — ${r.spots} spots, ${r.excluded} without a usable label left out`,
      );
      console.log(r.method);
    }
    if (v.str("out")) {
      const out = v.str("out")!;
      const x = r.spotIndex.map((i) => s.pixel.x[i]), y = r.spotIndex.map((i) => s.pixel.y[i]);
      const background = await backgroundFor(v, s.test);
      const fig = clusterMapFigure({
        title: `${s.test}: tumour localisation (${run.method})`,
        background,
        panels: [
          {
            title: `${key}: tumour / other`,
            x,
            y,
            labels: r.tumour.map((t) => (t ? "tumour" : "non-tumour")),
          },
          { title: "measured clusters", x, y, labels: r.clustersMeasured, ari: r.ariMeasured },
          {
            title: `${run.method} clusters`,
            x,
            y,
            labels: r.clustersPredicted,
            ari: r.ariPredicted,
          },
        ],
      });
      const files = exportTable([summary], out, `ari_${s.test}`, {
        title: `Tumour localisation on ${s.test}`,
        params: { ...runParams(run), clustering: r.method },
        notes: [`${r.excluded} spots without a usable label left out`],
      }).files;
      files.push(
        ...await writeFigure(fig, out, `clusters_${s.test}`, { ...runParams(run), ...summary }),
      );
      await closeRenderer();
      if (!v.flag("json")) console.log(`wrote ${files.join(", ")}`);
    }
    return 0;
  },
};
