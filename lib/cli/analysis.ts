/**
 * Analysis commands on finished run folders (`spahgc train --out DIR`): `evaluate` (metrics
 * table), `compare` (paired Wilcoxon of two runs), `cluster` (tumour localisation by ARI) and
 * `enrich` (tumour vs non-tumour DE and over-representation). Each prints a table, or one JSON
 * object with `--json`, and with `--out DIR` writes CSV/Markdown tables and figures, each with
 * its manifest.
 */
import { join } from "node:path";
import { DataError, WarningLog } from "../errors.ts";
import { loadDataset } from "../datasets/registry.ts";
import type { Dataset } from "../data/slice.ts";
import {
  aggregateSeeds,
  benchmarkTable,
  compareRuns,
  evaluateRun,
  loadRun,
  type Run,
  type RunSlice,
} from "../eval/runs.ts";
import type { Alternative } from "../eval/stats.ts";
import { type ClusterAlgorithm, tumourLocalisation } from "../eval/clustering.ts";
import { geneList, readGeneSets, tumourEnrichment, writeGmt } from "../eval/enrichment.ts";
import { writeFileAtomic } from "../io/files.ts";
import { thumbnailDataUri } from "../io/image.ts";
import { exportTable, markdownTable } from "../provenance/table.ts";
import {
  type Background,
  clusterMapFigure,
  enrichmentDotFigure,
  type Figure,
  pccBarFigure,
  pccBoxFigure,
  runtimeFigure,
  spatialExpressionFigure,
} from "../plot/figures.ts";
import { pearsonColumn } from "../eval/metrics.ts";
import { closeRenderer, saveFigure } from "../plot/export.ts";
import { choiceOption, type Command, json, numberOption, UsageError } from "./command.ts";

type Values = Record<string, string | boolean | undefined>;

const RUN_OPTIONS = {
  dataset: {
    type: "string",
    help:
      "dataset the run was trained on; needed only for runs written without the measured layer, and for H&E backgrounds",
  },
  "data-dir": { type: "string", help: "data directory" },
  out: { type: "string", help: "write tables (CSV, Markdown) and figures (HTML, PNG) here" },
  json: { type: "boolean", help: "one JSON object on stdout" },
} as const;

// One command may open several runs and draw several maps: read the dataset and each thumbnail
// once (HER2+ takes seconds to load, a thumbnail means decoding a whole-slide JPEG).
let datasetLoad: Promise<Dataset> | undefined;
const thumbnails = new Map<string, Promise<Background | undefined>>();

function datasetFor(v: Values): Promise<Dataset | undefined> {
  if (!v.dataset) return Promise.resolve(undefined);
  datasetLoad ??= loadDataset(String(v.dataset), {
    dataDir: v["data-dir"] as string | undefined,
    log: new WarningLog(!v.json),
  });
  return datasetLoad;
}

async function openRun(dir: string | undefined, v: Values): Promise<Run> {
  if (!dir) throw new UsageError("missing <run-dir>");
  return await loadRun(dir, await datasetFor(v));
}

function pickSlice(run: Run, name: string | undefined): RunSlice {
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
const writeFigure = (
  fig: Figure,
  dir: string,
  name: string,
  params: Record<string, unknown>,
  notes: string[] = [],
) => saveFigure(fig, dir, name, { params, notes });

function backgroundFor(v: Values, slice: string): Promise<Background | undefined> {
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
function geneMap(s: RunSlice, gene: string, method: string, background?: Background): Figure {
  const g = s.genes.indexOf(gene);
  if (g < 0) {
    throw new DataError(`gene ${gene} is not among the run's ${s.genes.length} genes`, {
      file: s.file,
      gene,
    });
  }
  const G = s.genes.length;
  const column = (x: Float32Array) => Float64Array.from(s.spots, (_, i) => x[i * G + g]);
  const measured = column(s.measured), predicted = column(s.predicted);
  const r = pearsonColumn(s.predicted, s.measured, s.spots.length, G, g);
  return spatialExpressionFigure({
    gene: `${gene} — ${s.test}`,
    background,
    panels: [
      { title: "measured", x: s.pixel.x, y: s.pixel.y, values: measured },
      {
        title: `${method} (r = ${Number.isNaN(r) ? "undefined" : r.toFixed(3)})`,
        x: s.pixel.x,
        y: s.pixel.y,
        values: predicted,
      },
    ],
  });
}

/** `evaluate` over several run folders: the seeds of one configuration. */
async function evaluateSeeds(dirs: string[], v: Values): Promise<number> {
  const evs = [];
  for (const d of dirs) evs.push(evaluateRun(await openRun(d, v)));
  const agg = aggregateSeeds(evs);
  if (v.json) json(agg);
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
  if (v.out) {
    const { files } = exportTable(agg.slices, String(v.out), "metrics_seeds", {
      title: `${agg.method}: per-slice metrics, mean ± SD over ${dirs.length} seeds`,
      params: { runs: dirs, overSlices: agg.overSlices, overSeeds: agg.overSeeds },
      notes: agg.notes,
    });
    if (!v.json) console.log(`wrote ${files.join(", ")}`);
  }
  return 0;
}

const runParams = (run: Run) => ({
  run: run.dir,
  method: run.method,
  config: run.config,
});

export const ANALYSIS_COMMANDS: Record<string, Command> = {
  evaluate: {
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
    async run(dirs, v) {
      if (dirs.length > 1) return await evaluateSeeds(dirs, v);
      const run = await openRun(dirs[0], v);
      const ev = evaluateRun(run);
      if (v.json) {
        const { perGene: _perGene, ...summary } = ev;
        json(summary);
      } else {
        console.log(`${ev.method} — ${ev.dir}`);
        console.log(markdownTable(ev.slices as unknown as Record<string, unknown>[]));
        console.log(
          `mean PCC ${ev.mean.pcc.toFixed(4)} ± ${ev.std.pcc.toFixed(4)}, RMSE ${
            ev.mean.rmse.toFixed(4)
          } ± ${ev.std.rmse.toFixed(4)}, top-50 PCC ${
            ev.mean.top50.toFixed(4)
          } (per slice, not pooled)`,
        );
        for (const n of ev.notes) console.error(`note: ${n}`);
      }
      if (v.out) {
        const out = String(v.out);
        const files = exportTable(
          ev.slices as unknown as Record<string, unknown>[],
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
        const genes = [...new Set(ev.perGene.flatMap((p) => p.genes))];
        const lookup = ev.perGene.map((p) => new Map(p.genes.map((g, j) => [g, p.r[j]])));
        const perGeneRows = genes.map((g) => ({
          gene: g,
          ...Object.fromEntries(ev.perGene.map((p, k) => [p.test, lookup[k].get(g) ?? null])),
        }));
        files.push(
          ...exportTable(perGeneRows, out, "per_gene_pcc", {
            title: `${ev.method}: per-gene Pearson r on each test slice (NaN = constant gene)`,
            params: runParams(run),
          }).files,
          ...await writeFigure(
            pccBoxFigure(
              ev.perGene.flatMap((p) =>
                p.r.filter((r) => !Number.isNaN(r)).map((r, j) => ({
                  method: p.test,
                  slice: p.genes[j],
                  pcc: r,
                }))
              ),
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
        for (const gene of v.genes ? String(v.genes).split(",") : []) {
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
        if (!v.json) console.log(`wrote ${files.join(", ")}`);
      }
      return 0;
    },
  },
  benchmark: {
    usage:
      "spahgc benchmark <run-dir> <run-dir> … [--reference spahgc] [--dataset NAME] [--out DIR] [--json]",
    summary:
      "a method-comparison table over run folders: PCC/RMSE mean ± SD, Wilcoxon vs a reference method (BH), wall time",
    options: {
      ...RUN_OPTIONS,
      reference: { type: "string", help: "method the others are tested against (default spahgc)" },
    },
    async run(dirs, v) {
      if (dirs.length < 2) throw new UsageError("need at least two run folders");
      const runs: Run[] = [];
      for (const d of dirs) runs.push(await openRun(d, v));
      const reference = (v.reference as string | undefined) ?? "spahgc";
      const evals = runs.map((r) => evaluateRun(r));
      const { rows, notes } = benchmarkTable(
        evals.map((e, i) => ({ evaluation: e, wallSeconds: runs[i].seconds ?? undefined })),
        reference,
      );
      if (v.json) json({ reference, rows, notes });
      else {
        console.log(markdownTable(rows as unknown as Record<string, unknown>[]));
        for (const n of notes) console.error(`note: ${n}`);
      }
      if (v.out) {
        const out = String(v.out);
        const params = { runs: dirs, reference, configs: runs.map((r) => r.config) };
        const files = exportTable(rows as unknown as Record<string, unknown>[], out, "benchmark", {
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
        const timed = rows.filter((r) => r.wallSeconds !== null);
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
        if (!v.json) console.log(`wrote ${files.join(", ")}`);
      }
      return 0;
    },
  },
  compare: {
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
    async run([a, b], v) {
      if (!a || !b) throw new UsageError("need two run folders");
      const alt = choiceOption<Alternative>(
        v,
        "alternative",
        ["two-sided", "greater", "less"],
        "two-sided",
      );
      const [ra, rb] = [await openRun(a, v), await openRun(b, v)];
      const [ea, eb] = [evaluateRun(ra), evaluateRun(rb)];
      const c = compareRuns(ea, eb, alt);
      const rows = c.slices.map((s, i) => ({
        slice: s,
        [`pcc_${ea.method}_a`]: c.pccA[i],
        [`pcc_${eb.method}_b`]: c.pccB[i],
        difference: c.pccA[i] - c.pccB[i],
      }));
      if (v.json) json({ ...c, methodA: ea.method, methodB: eb.method });
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
      if (v.out) {
        const out = String(v.out);
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
        if (!v.json) console.log(`wrote ${files.join(", ")}`);
      }
      return 0;
    },
  },
  cluster: {
    usage:
      "spahgc cluster <run-dir> [--slice S] [--labels pathologist] [--algorithm kmeans|louvain] [--out DIR] [--json]",
    summary:
      "tumour localisation: cluster predicted and measured expression, ARI against tumour / non-tumour labels",
    options: {
      ...RUN_OPTIONS,
      slice: { type: "string", help: "test slice (needed when the run has several)" },
      labels: { type: "string", help: "label column (default: pathologist)" },
      tumour: {
        type: "string",
        help: 'labels counted as tumour (default "invasive cancer,cancer in situ")',
      },
      algorithm: { type: "string", help: "kmeans (default, k = 2) | louvain" },
      k: { type: "string", help: "k-means clusters (default 2)" },
      resolution: { type: "string", help: "Louvain resolution (default 1)" },
      seed: { type: "string", help: "seed (default 0)" },
    },
    async run([dir], v) {
      const run = await openRun(dir, v);
      const s = pickSlice(run, v.slice as string | undefined);
      const key = (v.labels as string | undefined) ?? "pathologist";
      const labels = s.labels[key];
      if (!labels) {
        throw new DataError(
          `slice ${s.test} has no '${key}' labels (has: ${
            Object.keys(s.labels).join(", ") || "none"
          })`,
          { file: s.file },
        );
      }
      const algorithm = choiceOption<ClusterAlgorithm>(
        v,
        "algorithm",
        ["kmeans", "louvain"],
        "kmeans",
      );
      const r = tumourLocalisation(s.predicted, s.measured, s.genes.length, labels, {
        tumourLabels: v.tumour ? String(v.tumour).split(",") : undefined,
        algorithm,
        k: numberOption(v, "k", 2, (x) => Number.isInteger(x) && x >= 2, "an integer ≥ 2"),
        resolution: numberOption(v, "resolution", 1, (x) => x > 0, "a positive number"),
        seed: numberOption(v, "seed", 0, Number.isInteger, "an integer"),
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
      if (v.json) json(summary);
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
      if (v.out) {
        const out = String(v.out);
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
        if (!v.json) console.log(`wrote ${files.join(", ")}`);
      }
      return 0;
    },
  },
  enrich: {
    usage:
      "spahgc enrich <run-dir> --gene-sets FILE|DIR [--slice S] [--labels pathologist] [--q 0.05] [--out DIR] [--json]",
    summary:
      "tumour vs non-tumour DE (rank-sum, BH) on predicted and measured expression, and gene-set over-representation",
    options: {
      ...RUN_OPTIONS,
      "gene-sets": { type: "string", help: ".gmt file, GO .csv export, or a folder of them" },
      slice: { type: "string", help: "test slice (needed when the run has several)" },
      labels: { type: "string", help: "label column (default: pathologist)" },
      tumour: {
        type: "string",
        help: 'labels counted as tumour (default "invasive cancer,cancer in situ")',
      },
      q: { type: "string", help: "adjusted-p cut for DE genes and enriched sets (default 0.05)" },
      "min-set-size": { type: "string", help: "smallest set within the tested genes (default 5)" },
    },
    async run([dir], v) {
      if (!v["gene-sets"]) throw new UsageError("missing --gene-sets FILE|DIR");
      const run = await openRun(dir, v);
      const s = pickSlice(run, v.slice as string | undefined);
      const key = (v.labels as string | undefined) ?? "pathologist";
      const labels = s.labels[key];
      if (!labels) {
        throw new DataError(`slice ${s.test} has no '${key}' labels`, { file: s.file });
      }
      const sets = readGeneSets(String(v["gene-sets"]));
      const q = numberOption(v, "q", 0.05, (x) => x > 0 && x <= 1, "a number in (0, 1]");
      const r = tumourEnrichment(s.predicted, s.measured, s.genes, labels, sets, {
        tumourLabels: v.tumour ? String(v.tumour).split(",") : undefined,
        q,
        minSetSize: numberOption(v, "min-set-size", 5, (x) => Number.isInteger(x) && x >= 1),
      });
      const enriched = (src: "predicted" | "measured") =>
        r[src].enrichment.filter((e) => e.padj < q);
      const summary = {
        run: run.dir,
        method: run.method,
        slice: s.test,
        tumourSpots: r.tumourSpots,
        otherSpots: r.otherSpots,
        excludedSpots: r.excludedSpots,
        deGenes: {
          predicted: r.predicted.significant.length,
          measured: r.measured.significant.length,
        },
        overlap: r.overlap.length,
        enrichedSets: {
          predicted: enriched("predicted").length,
          measured: enriched("measured").length,
        },
        topSets: {
          predicted: r.predicted.enrichment.slice(0, 5).map((e) => ({ set: e.set, padj: e.padj })),
          measured: r.measured.enrichment.slice(0, 5).map((e) => ({ set: e.set, padj: e.padj })),
        },
        coverage: r.coverage,
        notes: r.notes,
      };
      if (v.json) json(summary);
      else {
        console.log(
          `${s.test}: ${r.tumourSpots} tumour vs ${r.otherSpots} other spots (${r.excludedSpots} left out)`,
        );
        console.log(
          `DE genes (BH q < ${q}): predicted ${r.predicted.significant.length}, measured ${r.measured.significant.length}, shared ${r.overlap.length}`,
        );
        console.log(
          `enriched sets (q < ${q}): predicted ${summary.enrichedSets.predicted}, measured ${summary.enrichedSets.measured}`,
        );
        for (const src of ["predicted", "measured"] as const) {
          for (const e of r[src].enrichment.slice(0, 5)) {
            console.log(
              `  ${src}: ${e.set} — ${e.overlap}/${e.setSize}, q = ${e.padj.toPrecision(3)}`,
            );
          }
        }
        for (const n of r.notes) console.error(`note: ${n}`);
      }
      if (v.out) {
        const out = String(v.out);
        Deno.mkdirSync(out, { recursive: true });
        const params = {
          ...runParams(run),
          slice: s.test,
          labels: key,
          geneSets: v["gene-sets"],
          q,
        };
        const files: string[] = [];
        for (const src of ["predicted", "measured"] as const) {
          files.push(
            ...exportTable(
              r[src].de as unknown as Record<string, unknown>[],
              out,
              `de_${src}`,
              { title: `${s.test}: tumour vs non-tumour, ${src}`, params, notes: r.notes },
            ).files,
            ...exportTable(
              r[src].enrichment as unknown as Record<string, unknown>[],
              out,
              `enrichment_${src}`,
              { title: `${s.test}: over-representation, ${src} DE genes`, params, notes: r.notes },
            ).files,
          );
          // Plain lists for g:Profiler / Enrichr: the significant genes, and the background.
          writeFileAtomic(join(out, `genes_${src}.txt`), geneList(r[src].significant));
          files.push(join(out, `genes_${src}.txt`));
        }
        writeFileAtomic(join(out, "background.txt"), geneList(s.genes));
        writeFileAtomic(
          join(out, "de_genes.gmt"),
          writeGmt([
            {
              name: `${s.test}_tumour_DE_predicted`,
              description: run.method,
              genes: r.predicted.significant,
            },
            {
              name: `${s.test}_tumour_DE_measured`,
              description: "measured",
              genes: r.measured.significant,
            },
            { name: `${s.test}_tumour_DE_shared`, description: "both", genes: r.overlap },
          ]),
        );
        writeFileAtomic(join(out, "summary.json"), JSON.stringify(summary, null, 2) + "\n");
        files.push(
          join(out, "background.txt"),
          join(out, "de_genes.gmt"),
          join(out, "summary.json"),
        );
        const points = (["predicted", "measured"] as const).flatMap((src) =>
          r[src].enrichment.map((e) => ({
            source: src === "predicted" ? `${run.method} (predicted)` : "measured",
            term: e.set,
            padj: e.padj,
            overlap: e.overlap,
            setSize: e.setSize,
          }))
        );
        files.push(
          ...await writeFigure(
            enrichmentDotFigure(points, { title: `${s.test}: tumour vs non-tumour enrichment`, q }),
            out,
            "enrichment_dots",
            params,
            r.notes,
          ),
        );
        await closeRenderer();
        if (!v.json) console.log(`wrote ${files.join(", ")}`);
      }
      return 0;
    },
  },
};
