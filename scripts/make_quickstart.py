"""Writes notebooks/00_quickstart.ipynb from the cell sources below (keeps the JSON tidy).
Run: python3 scripts/make_quickstart.py"""
import json

md = lambda s: {"cell_type": "markdown", "metadata": {}, "source": s.strip("\n").splitlines(True)}
code = lambda s: {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "source": s.strip("\n").splitlines(True)}

cells = [
    md("""
# 00 · Quick-start on the embedded synthetic data

Runs every stage of the pipeline that exists so far on the deterministic synthetic cohort that
ships with the code (no download): generate → summarise → export each slice as AnnData `.h5ad`
(readable by Python's `anndata`) → read it back → save the H&E-like images → highly variable
genes → image features (built-in encoder) → the ridge baseline, leave-one-slice-out → SpaHGC
(heterogeneous graph, CNDA/CNAP, complementary masking) on the same folds → manifest. The quick
profile trains SpaHGC briefly on two folds; the full profile runs all folds for 200 epochs.

Parameters are overridable without editing: `SPAHGC_PROFILE=quick|full`,
`SPAHGC_PARAMS='{"seed": 3}'` (JSON or a path to a JSON file).
"""),
    code("""
import * as spahgc from "../lib/mod.ts";
import { join } from "node:path";

const params = spahgc.notebookParams({
  seed: 7,
  patients: 3,
  sectionsPerPatient: 2,
  out: join(spahgc.PROJECT_ROOT, "figures", "00_quickstart"),
  nTop: 60,
  spahgcEpochs: 8,
  spahgcFolds: ["P1_S1", "P3_S2"] as string[] | undefined,
  profiles: { quick: {}, full: { patients: 4, sectionsPerPatient: 3, spahgcEpochs: 200, spahgcFolds: undefined } },
});
const manifest = spahgc.startManifest("00_quickstart", params);
console.log(params);
"""),
    md("## 1 · Data: the embedded synthetic cohort"),
    code("""
const dataset = await spahgc.loadDataset("synthetic", {
  synthetic: { seed: params.seed, patients: params.patients, sectionsPerPatient: params.sectionsPerPatient },
});
const summary = spahgc.summarizeDataset(dataset);
manifest.manifest.dataset = { name: dataset.name, slices: dataset.slices.map((s) => s.name), source: dataset.provenance.source, location: dataset.provenance.location, warnings: dataset.provenance.warnings.length };
await spahgc.display(spahgc.summaryMarkdown(summary));
"""),
    md("## 2 · Export each slice as AnnData `.h5ad` and read it back"),
    code("""
Deno.mkdirSync(join(params.out, "slices"), { recursive: true });
const outputs: string[] = [];
for (const s of dataset.slices) {
  const file = join(params.out, "slices", `${s.name}.h5ad`);
  await spahgc.writeH5ad(file, spahgc.sliceToAnnData(s));
  const back = spahgc.annDataToSlice(await spahgc.readH5ad(file), file);
  if (back.counts.sum() !== s.counts.sum() || back.spots.length !== s.spots.length) {
    throw new Error(`round trip of ${s.name} changed the data`);
  }
  outputs.push(`slices/${s.name}.h5ad`);
}
await spahgc.display(`wrote and re-read ${outputs.length} .h5ad files: counts identical`);
"""),
    md("## 3 · The H&E-like images"),
    code("""
Deno.mkdirSync(join(params.out, "images"), { recursive: true });
for (const s of dataset.slices) {
  const png = await spahgc.encodePng(s.image!.pixels!);
  spahgc.writeFileAtomic(join(params.out, "images", `${s.name}.png`), png);
  outputs.push(`images/${s.name}.png`);
}
console.log(`saved ${dataset.slices.length} images to ${join(params.out, "images")}`);
"""),
    md("""## 4 · Genes: per-slice highly variable genes, intersected (the paper's recipe)"""),
    code("""
const geneParams = { recipe: "intersection" as const, flavor: "seurat" as const, nTop: params.nTop, targetSum: 1e6 };
const genes = spahgc.selectGenes(dataset.slices, geneParams);
await spahgc.display(`**${genes.genes.length} genes** (${genes.notes.join("; ")}): ${genes.genes.slice(0, 12).join(", ")}, …`);
"""),
    md("""## 5 · Image features and the ridge baseline (leave-one-slice-out)

The built-in histology descriptor embeds each spot's patch; ridge regression (standardise → PCA →
ridge, λ chosen on the training slices only) predicts ln(1 + CPM) of the selected genes. PCC is
per slice (mean over genes), as `docs/evaluation.md` defines it."""),
    code("""
const extractor = spahgc.builtinExtractor();
const report = await spahgc.crossValidate({
  dataset, method: spahgc.ridgeMethod(), extractor, geneParams,
  out: join(params.out, "ridge"), progress: () => {},
});
await extractor.close();
spahgc.writeFileAtomic(join(params.out, "ridge_report.json"), JSON.stringify(report, null, 2) + "\\n");
outputs.push("ridge_report.json", ...report.folds.map((f) => `ridge/${f.test}.predictions.h5ad`));
await spahgc.display([
  "| test slice | PCC | RMSE | top-50 PCC |", "|---|---:|---:|---:|",
  ...report.folds.map((f) => `| ${f.test} | ${f.pcc.toFixed(3)} | ${f.rmse.toFixed(3)} | ${f.top50.toFixed(3)} |`),
  "", `ridge mean PCC ${report.mean.pcc.toFixed(3)} ± ${report.std.pcc.toFixed(3)} over ${report.folds.length} slices (${report.target})`,
].join("\\n"));
"""),
    md("""## 6 · SpaHGC on the same folds

Each training slice becomes a target graph against a bank of the other training slices (never the
test slice); one AdamW step per graph; the epoch is chosen on a validation slice drawn from the
training slices. The backend actually used is reported."""),
    code("""
const spahgcReport = await spahgc.crossValidate({
  dataset, extractor: spahgc.builtinExtractor(), geneParams, folds: params.spahgcFolds,
  method: spahgc.spahgcMethod({ epochs: params.spahgcEpochs, checkpointDir: join(params.out, "spahgc", "checkpoints"), progress: () => {} }),
  out: join(params.out, "spahgc"), progress: () => {},
});
spahgc.writeFileAtomic(join(params.out, "spahgc_report.json"), JSON.stringify(spahgcReport, null, 2) + "\\n");
outputs.push("spahgc_report.json");
const ridgeBy = new Map(report.folds.map((f) => [f.test, f.pcc]));
await spahgc.display([
  `SpaHGC (${spahgcReport.backend}, ${params.spahgcEpochs} epochs) beside ridge, per test slice:`, "",
  "| test slice | SpaHGC PCC | ridge PCC |", "|---|---:|---:|",
  ...spahgcReport.folds.map((f) => `| ${f.test} | ${f.pcc.toFixed(3)} | ${ridgeBy.get(f.test)?.toFixed(3)} |`),
  "", `SpaHGC mean PCC ${spahgcReport.mean.pcc.toFixed(3)} over ${spahgcReport.folds.length} slices`,
].join("\\n"));
"""),
    md("## 7 · Summary table and manifest"),
    code("""
spahgc.writeFileAtomic(join(params.out, "dataset_summary.json"), JSON.stringify(summary, null, 2) + "\\n");
spahgc.writeFileAtomic(join(params.out, "dataset_summary.md"), spahgc.summaryMarkdown(summary) + "\\n");
outputs.push("dataset_summary.json", "dataset_summary.md");
const m = manifest.finish(params.out, outputs, ["stages run: data, .h5ad export/import, images, HVG, built-in features, ridge LOSO, SpaHGC (quick profile: 2 folds, few epochs)"]);
await spahgc.display(`quickstart finished: ${outputs.length} outputs in ${params.out} (${m.wallSeconds} s)`);
"""),
]
nb = {
    "cells": cells,
    "metadata": {
        "kernelspec": {"display_name": "Deno", "language": "typescript", "name": "deno"},
        "language_info": {"name": "typescript"},
        "spahgc": {"expect": ["quickstart finished", "counts identical", "ridge mean PCC", "SpaHGC mean PCC"]},
    },
    "nbformat": 4,
    "nbformat_minor": 5,
}
with open("notebooks/00_quickstart.ipynb", "w") as f:
    json.dump(nb, f, indent=1)
    f.write("\n")
