/**
 * What the commands on finished run folders share (`evaluate`, `benchmark`, `compare`,
 * `cluster`, `enrich`): their common options, opening runs (with the dataset when one is named),
 * picking a test slice, gene maps and figure export.
 */
import { DataError, WarningLog } from "../errors.ts";
import { loadDataset } from "../datasets/registry.ts";
import type { Dataset } from "../data/slice.ts";
import {
  aggregateSeeds,
  configurationDifferences,
  evaluateRun,
  loadRun,
  type Run,
  type RunSlice,
  sideBySide,
} from "../eval/runs.ts";
import { thumbnailDataUri } from "../io/image.ts";
import { exportTable, markdownTable } from "../provenance/table.ts";
import { type Background, type Figure, predictionMapFigure } from "../plot/figures.ts";
import { saveFigure } from "../plot/export.ts";
import { json } from "./command.ts";
import { type Options, type OptionSchema, UsageError } from "./options.ts";

export const RUN_OPTIONS = {
  dataset: {
    type: "string",
    help:
      "dataset the run was trained on; needed only for runs written without the measured layer, and for H&E backgrounds",
  },
  "data-dir": { type: "string", help: "data directory" },
  out: { type: "string", help: "write tables (CSV, Markdown) and figures (HTML, PNG) here" },
  json: { type: "boolean", help: "one JSON object on stdout" },
} satisfies OptionSchema;

/** Which test slice and which of its labels are tumour (`cluster`, `enrich`). */
export const TUMOUR_OPTIONS = {
  slice: { type: "string", help: "test slice (needed when the run has several)" },
  labels: { type: "string", help: "label column (default: pathologist)" },
  tumour: {
    type: "string",
    help: 'labels counted as tumour (default "invasive cancer,cancer in situ")',
  },
} satisfies OptionSchema;

// One command may open several runs and draw several maps: read the dataset and each thumbnail
// once (HER2+ takes seconds to load, a thumbnail means decoding a whole-slide JPEG).
let datasetLoad: Promise<Dataset> | undefined;
const thumbnails = new Map<string, Promise<Background | undefined>>();

export function datasetFor(v: Options): Promise<Dataset | undefined> {
  const name = v.str("dataset");
  if (!name) return Promise.resolve(undefined);
  datasetLoad ??= loadDataset(name, {
    dataDir: v.str("data-dir"),
    log: new WarningLog(!v.flag("json")),
  });
  return datasetLoad;
}

export async function openRun(dir: string | undefined, v: Options): Promise<Run> {
  if (!dir) throw new UsageError("missing <run-dir>");
  return await loadRun(dir, await datasetFor(v));
}

export function pickSlice(run: Run, name: string | undefined): RunSlice {
  if (!name) {
    if (run.slices.length === 1) return run.slices[0];
    throw new UsageError(
      `--slice is needed: the run has ${run.slices.length} test slices (${
        run.slices.map((s) => s.test).join(", ")
      })`,
    );
  }
  const s = run.slices.find((x) => x.test === name);
  if (!s) {
    throw new DataError(
      `no test slice ${name} in this run (slices: ${run.slices.map((x) => x.test).join(", ")})`,
      { file: run.dir },
    );
  }
  return s;
}

/** Figures: HTML always, PNG when Chromium is there to render them (plot/export.ts). */
export const writeFigure = (
  fig: Figure,
  dir: string,
  name: string,
  params: Record<string, unknown>,
  notes: string[] = [],
) => saveFigure(fig, dir, name, { params, notes });

export function backgroundFor(v: Options, slice: string): Promise<Background | undefined> {
  if (!thumbnails.has(slice)) {
    thumbnails.set(
      slice,
      datasetFor(v).then((ds) => {
        const img = ds?.slices.find((s) => s.name === slice)?.image;
        return img ? thumbnailDataUri(img) : undefined;
      }),
    );
  }
  return thumbnails.get(slice)!;
}

/** Measured vs predicted expression of one gene on one test slice, on one colour scale. */
export function geneMap(
  s: RunSlice,
  gene: string,
  method: string,
  background?: Background,
): Figure {
  if (!s.genes.includes(gene)) {
    throw new DataError(`gene ${gene} is not among the run's ${s.genes.length} genes`, {
      file: s.file,
      gene,
    });
  }
  return predictionMapFigure({ gene, runs: [{ label: method, slice: s }], background });
}

/** `evaluate` over several run folders: the seeds of one configuration. */
export async function evaluateSeeds(dirs: string[], v: Options): Promise<number> {
  const evs = [];
  for (const d of dirs) evs.push(evaluateRun(await openRun(d, v)));
  // Runs of different configurations are not seeds: shown side by side, never pooled.
  const differ = configurationDifferences(evs);
  if (differ.length) {
    const rows = sideBySide(evs);
    if (v.flag("json")) json({ sideBySide: true, differences: differ, rows: rows.toRecords() });
    else {
      console.log(
        `${dirs.length} runs of different configurations, side by side (not pooled as seeds):`,
      );
      console.log(markdownTable(rows));
      for (const d of differ.slice(0, 8)) console.log(`  differs: ${d}`);
    }
    return 0;
  }
  const agg = aggregateSeeds(evs);
  if (v.flag("json")) json(agg);
  else {
    console.log(`${agg.method} — ${dirs.length} seeds`);
    console.log(markdownTable(agg.slices));
    const f = (m: number, s: number) => `${m.toFixed(4)} ± ${s.toFixed(4)}`;
    console.log(
      `PCC over slices (seed-averaged) ${
        f(agg.overSlices.pcc, agg.overSlices.pccStd)
      }; over seeds ${f(agg.overSeeds.pcc, agg.overSeeds.pccStd)}. RMSE over slices ${
        f(agg.overSlices.rmse, agg.overSlices.rmseStd)
      }; over seeds ${f(agg.overSeeds.rmse, agg.overSeeds.rmseStd)}`,
    );
    for (const n of agg.notes) console.error(`note: ${n}`);
  }
  const out = v.str("out");
  if (out) {
    const { files } = exportTable(agg.slices, out, "metrics_seeds", {
      title: `${agg.method}: per-slice metrics, mean ± SD over ${dirs.length} seeds`,
      params: { runs: dirs, overSlices: agg.overSlices, overSeeds: agg.overSeeds },
      notes: agg.notes,
    });
    if (!v.flag("json")) console.log(`wrote ${files.join(", ")}`);
  }
  return 0;
}

export const runParams = (run: Run) => ({
  run: run.dir,
  method: run.method,
  config: run.config,
});
