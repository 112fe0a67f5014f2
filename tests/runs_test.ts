/** Run folders as evaluation input: alignment checks, recomputed metrics, paired comparison, CLI. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { generateSynthetic, readH5ad, writeH5ad } from "../lib/mod.ts";
import {
  aggregateSeeds,
  alignToPrediction,
  type BenchmarkRow,
  benchmarkTable,
  compareRuns,
  configurationDifferences,
  evaluateRun,
  geneTable,
  loadRun,
  sideBySide,
  sliceTable,
} from "../lib/eval/runs.ts";
import { benjaminiHochberg, wilcoxonSignedRank } from "../lib/eval/stats.ts";
import { groupInOrder, pl, rowsOf } from "../lib/table/frame.ts";
import { ridgeMethod } from "../lib/model/baselines/ridge.ts";
import { knnMethod } from "../lib/model/baselines/knn.ts";
import { crossValidate } from "../lib/train/experiment.ts";
import { builtinExtractor } from "../lib/features/extractors.ts";
import { cli, cliJson, HAVE_ANNDATA, python, tempDir, throwsWith, writeText } from "./helpers.ts";

Deno.test("prediction and truth: reordered spots/genes are aligned and said; missing spots, NaN are errors", async () => {
  const pred = { spots: ["a", "b", "c"], genes: ["G1", "G2"], values: [1, 2, 3, 4, 5, 6] };
  const truth = { spots: ["c", "a", "b"], genes: ["G2", "G1"], values: [60, 50, 20, 10, 40, 30] };
  const r = alignToPrediction(pred, truth, "p.h5ad");
  assert.deepEqual(Array.from(r.measured), [10, 20, 30, 40, 50, 60]);
  assert.equal(r.notes.length, 2);
  assert.match(r.notes[0], /3 of 3 spots moved/);
  assert.match(r.notes[1], /2 of 2 genes moved/);
  assert.deepEqual(alignToPrediction(pred, { ...pred }, "p").notes, []);
  await throwsWith(
    () => alignToPrediction(pred, { ...truth, spots: ["c", "a", "x"] }, "p.h5ad"),
    "p.h5ad",
    "spot b",
    "no measured expression",
  );
  await throwsWith(
    () => alignToPrediction(pred, { ...truth, genes: ["G2", "G9"] }, "p.h5ad"),
    "gene G1",
    "not measured",
  );
  await throwsWith(
    () =>
      alignToPrediction(
        pred,
        { spots: ["a", "b", "c", "d"], genes: ["G1", "G2"], values: new Array(8).fill(0) },
        "p.h5ad",
      ),
    "spot d",
    "truth has 4 spots, the prediction 3",
  );
  await throwsWith(
    () => alignToPrediction({ ...pred, values: [1, 2, NaN, 4, 5, NaN] }, truth, "p.h5ad"),
    "spot b",
    "gene G1",
    "NaN (2 non-finite values in all)",
  );
});

const ds = generateSynthetic();
const geneParams = {
  recipe: "intersection" as const,
  flavor: "seurat" as const,
  nTop: 1000,
  targetSum: 1e6,
};

/** A ridge run on the synthetic cohort, written to a folder (shared by the tests below). */
async function ridgeRun(): Promise<
  { dir: string; report: Awaited<ReturnType<typeof crossValidate>> }
> {
  const dir = join(tempDir(), "ridge");
  const ex = builtinExtractor({ workers: 1 });
  try {
    const report = await crossValidate({
      dataset: ds,
      method: ridgeMethod(),
      extractor: ex,
      geneParams,
      out: dir,
      cacheDir: null,
      progress: () => {},
    });
    return { dir, report };
  } finally {
    await ex.close();
  }
}
const ridge = ridgeRun();

Deno.test("a run folder evaluates on its own: metrics equal the training-time ones; labels come back", async () => {
  const { dir, report } = await ridge;
  const run = await loadRun(dir);
  assert.equal(run.method, "ridge");
  assert.equal(run.slices.length, 6);
  const ev = evaluateRun(run);
  for (const f of report.folds) {
    const s = ev.slices.find((x) => x.test === f.test)!;
    assert.ok(Math.abs(s.pcc - f.pcc) < 1e-9, `${f.test} PCC`);
    assert.ok(Math.abs(s.rmse - f.rmse) < 1e-9, `${f.test} RMSE`);
    assert.equal(s.genesExcluded, f.genesExcluded);
  }
  assert.ok(Math.abs(ev.mean.pcc - report.mean.pcc) < 1e-9);
  const s0 = run.slices[0];
  const src = ds.slices.find((s) => s.name === s0.test)!;
  assert.deepEqual(s0.labels.domain, src.labels.domain);
  assert.deepEqual(Array.from(s0.pixel.x), Array.from(src.pixel.x));
  await throwsWith(() => loadRun(tempDir()), "no config.json");
});

Deno.test({
  name: "per-slice PCC of a run folder equals numpy's, read through Python anndata",
  ignore: !HAVE_ANNDATA,
  async fn() {
    const { dir } = await ridge;
    const ev = evaluateRun(await loadRun(dir));
    const out = JSON.parse(python(
      `
import anndata, json, sys, glob, numpy as np
res = {}
for f in sorted(glob.glob(sys.argv[1] + "/*.predictions.h5ad")):
    a = anndata.read_h5ad(f)
    p, t = np.asarray(a.X, dtype=np.float64), np.asarray(a.layers["measured"], dtype=np.float64)
    rs = []
    for g in range(p.shape[1]):
        if p[:, g].std() > 0 and t[:, g].std() > 0:
            rs.append(np.corrcoef(p[:, g], t[:, g])[0, 1])
    res[a.uns["test_slice"]] = float(np.mean(rs))
print(json.dumps(res))`,
      dir,
    ));
    for (const s of ev.slices) assert.ok(Math.abs(out[s.test] - s.pcc) < 1e-5, s.test);
  },
});

Deno.test("two runs compare by paired Wilcoxon on shared slices; differences in setup are flagged", async () => {
  const { dir } = await ridge;
  // A degraded copy of the run: predictions mixed with noise, one slice dropped.
  const worse = join(tempDir(), "worse");
  Deno.mkdirSync(worse);
  const cfg = JSON.parse(Deno.readTextFileSync(join(dir, "config.json")));
  Deno.writeTextFileSync(join(worse, "config.json"), JSON.stringify({ ...cfg, encoder: "other" }));
  let k = 0;
  for (
    const e of [...Deno.readDirSync(dir)].filter((e) => e.name.endsWith(".h5ad")).sort((a, b) =>
      a.name.localeCompare(b.name)
    ).slice(1)
  ) {
    const ad = await readH5ad(join(dir, e.name));
    const x = ad.X as { data: Float32Array };
    const noisy = Float32Array.from(x.data, (v, i) => v + 3 * Math.sin(i * 12.9898 + k));
    k++;
    await writeH5ad(join(worse, e.name), {
      ...ad,
      X: { nRows: ad.obsNames.length, nCols: ad.varNames.length, data: noisy },
    });
  }
  const a = evaluateRun(await loadRun(dir)), b = evaluateRun(await loadRun(worse));
  const c = compareRuns(a, b, "greater");
  assert.equal(c.slices.length, 5);
  assert.ok(c.notes.some((n) => /only in .*ridge: P1_S1/.test(n)), c.notes.join("; "));
  assert.ok(c.notes.some((n) => /differ in encoder/.test(n)));
  assert.ok(c.meanDifference > 0);
  const ref = wilcoxonSignedRank(c.pccA, c.pccB, { alternative: "greater" });
  assert.deepEqual(c.test, ref);
  assert.equal(c.test.pValue, 1 / 32, "all five differences positive: exact one-sided p = 1/2^5");
  await throwsWith(
    () => compareRuns(a, { ...b, slices: b.slices.slice(0, 1) }),
    "share 1 test slice",
  );
  assert.ok(c.notes.some((n) => n.includes("smallest exact two-sided p is 2/2^5 = 0.0625")));

  // Seeds: aggregate per slice over runs, then over slices; and per run, then over runs.
  const seed2 = {
    ...a,
    dir: "seed2",
    slices: a.slices.map((s, i) => ({ ...s, pcc: s.pcc + 0.01 * i, rmse: s.rmse + 0.1 })),
  };
  seed2.mean = {
    ...a.mean,
    pcc: seed2.slices.reduce((t, s) => t + s.pcc, 0) / 6,
    rmse: a.mean.rmse + 0.1,
  };
  const agg = aggregateSeeds([a, seed2]);
  agg.slices.forEach((s, i) => {
    assert.ok(Math.abs(s.pcc - (a.slices[i].pcc + 0.005 * i)) < 1e-12);
    assert.ok(Math.abs(s.pccStd - Math.SQRT1_2 * 0.01 * i) < 1e-12, "sample SD of two values");
  });
  assert.ok(Math.abs(agg.overSeeds.pcc - (a.mean.pcc + seed2.mean.pcc) / 2) < 1e-12);
  assert.ok(
    Math.abs(agg.overSeeds.pccStd - Math.SQRT1_2 * Math.abs(seed2.mean.pcc - a.mean.pcc)) < 1e-12,
  );
  assert.ok(Math.abs(agg.overSlices.pcc - agg.overSeeds.pcc) < 1e-12, "a mean of means either way");
  await throwsWith(() => aggregateSeeds([a, b]), "must predict the same slices", "lacks P1_S1");
  // Seeds of one configuration differ in nothing but the seed; another method is not a seed.
  const withSeed = (e: typeof a, seed: number) => ({
    ...e,
    config: { ...e.config, params: { ...(e.config.params as object), seed } },
  });
  assert.deepEqual(configurationDifferences([withSeed(a, 0), withSeed(seed2, 2)]), []);
  const other = { ...withSeed(seed2, 2), method: "knn" };
  assert.deepEqual(configurationDifferences([withSeed(a, 0), other]), [
    'method: "ridge" → "knn"',
  ]);
  const side = sideBySide([a, other]);
  assert.equal(side.height, a.slices.length + 2);
  assert.deepEqual(side.columns.slice(0, 1).concat(side.columns.slice(2)), ["test", "knn (seed2)"]);
  assert.equal(side.toRecords().at(-2)!["knn (seed2)"], other.mean.pcc);

  // The comparison table: tests against the reference, BH across methods.
  const third = { ...seed2, method: "third" };
  const t = benchmarkTable(
    [{ evaluation: a, wallSeconds: 3 }, { evaluation: { ...b, method: "noisy" } }, {
      evaluation: third,
    }],
    "ridge",
  );
  const tRows = rowsOf<BenchmarkRow>(t.table);
  assert.deepEqual(tRows.map((r) => r.method), ["ridge", "noisy", "third"]);
  assert.equal(tRows[0].pVsReference, null);
  assert.equal(tRows[1].pVsReference, compareRuns({ ...b, method: "noisy" }, a).test.pValue);
  const ps = [tRows[1].pVsReference!, tRows[2].pVsReference!];
  assert.deepEqual([tRows[1].qVsReference, tRows[2].qVsReference], benjaminiHochberg(ps));
  assert.equal(tRows[0].wallSeconds, 3);
  assert.ok(Math.abs(tRows[2].pcc - seed2.mean.pcc) < 1e-12);
});

Deno.test("CLI: evaluate, compare, cluster and enrich on a run folder, with tables and figures", async () => {
  const { dir, report } = await ridge;
  const e = cliJson("evaluate", dir, "--json");
  assert.ok(Math.abs(e.mean.pcc - report.mean.pcc) < 1e-9);
  const out = tempDir();
  const ev2 = cli("evaluate", dir, "--out", out);
  assert.equal(ev2.code, 0, ev2.stderr);
  const csv = Deno.readTextFileSync(join(out, "metrics.csv")).trim().split("\n");
  assert.equal(csv[0], "test,spots,genes,pcc,rmse,top50,genesExcluded");
  assert.equal(csv.length, 7);
  const perGene = Deno.readTextFileSync(join(out, "per_gene_pcc.csv")).trim().split("\n");
  assert.equal(perGene[0], "gene,P1_S1,P1_S2,P2_S1,P2_S2,P3_S1,P3_S2");
  assert.equal(perGene.length, 1 + e.slices[0].genes);
  assert.ok(Deno.statSync(join(out, "per_gene_pcc.html")).size > 0);
  const sj = cliJson("evaluate", dir, dir, "--json");
  assert.ok(Math.abs(sj.overSeeds.pcc - report.mean.pcc) < 1e-9);
  assert.equal(sj.overSeeds.pccStd, 0);
  // Another method is no seed of this one: side by side, never pooled.
  const knnDir = join(tempDir(), "knn");
  const ex = builtinExtractor({ workers: 1 });
  try {
    await crossValidate({
      dataset: ds,
      method: knnMethod(),
      extractor: ex,
      geneParams,
      out: knnDir,
      cacheDir: null,
      progress: () => {},
    });
  } finally {
    await ex.close();
  }
  const sbs = cliJson("evaluate", dir, knnDir, "--json");
  assert.equal(sbs.sideBySide, true);
  assert.ok(
    sbs.differences.some((d: string) => d.startsWith('method: "ridge" → "knn"')),
    sbs.differences,
  );
  assert.equal(sbs.rows.at(-2)["ridge (ridge)"], e.mean.pcc);
  assert.equal(
    cli("evaluate", dir, knnDir).stdout.includes("side by side (not pooled as seeds)"),
    true,
  );
  for (
    const f of [
      "metrics.md",
      "metrics.manifest.json",
      "pcc_per_slice.html",
      "pcc_per_slice.manifest.json",
    ]
  ) {
    assert.ok(Deno.statSync(join(out, f)).size > 0, f);
  }
  const same = cli("compare", dir, dir, "--json");
  assert.equal(same.code, 1);
  assert.match(same.stderr, /identical PCC on all 6 shared slices/);
  assert.equal(cli("compare", dir).code, 2);
  const bj = cliJson("benchmark", dir, dir, "--reference", "ridge", "--json");
  assert.equal(bj.rows.length, 2);
  assert.ok(bj.rows[0].wallSeconds > 0, "wall time read from the metrics files");
  assert.ok(Math.abs(bj.rows[0].pcc - report.mean.pcc) < 1e-9);
  assert.equal(cli("compare", dir, dir, "--alternative", "bigger").code, 2);

  const c = cliJson(
    "cluster",
    dir,
    "--slice",
    "P1_S1",
    "--labels",
    "domain",
    "--tumour",
    "tumour",
    "--json",
  );
  assert.equal(c.spots, ds.slices[0].counts.nRows);
  assert.ok(c.ariMeasured > 0.3, `measured ARI ${c.ariMeasured}`);
  const noSlice = cli("cluster", dir, "--labels", "domain");
  assert.equal(noSlice.code, 2);
  assert.match(noSlice.stderr, /--slice is needed: the run has 6 test slices/);
  const badLabels = cli("cluster", dir, "--slice", "P1_S1");
  assert.equal(badLabels.code, 1);
  assert.match(badLabels.stderr, /no 'pathologist' labels \(has: domain\)/);

  // Gene sets: one planted set of the synthetic tumour genes, one with genes the data lack.
  const genes = (await loadRun(dir)).slices[0].genes;
  const gmt = writeText(
    tempDir(),
    "sets.gmt",
    `tumour_markers\tplanted\t${
      genes.slice(0, 12).join("\t")
    }\nunknown\tnone\tNOPE1\tNOPE2\tNOPE3\tNOPE4\tNOPE5\n`,
  );
  const enrichOut = tempDir();
  const r = cliJson(
    "enrich",
    dir,
    "--slice",
    "P1_S1",
    "--labels",
    "domain",
    "--tumour",
    "tumour",
    "--gene-sets",
    gmt,
    "--min-set-size",
    "3",
    "--out",
    enrichOut,
    "--json",
  );
  assert.ok(r.deGenes.measured > 0);
  assert.equal(r.coverage.unknown, 5);
  assert.equal(r.coverage.setsDropped, 1);
  assert.ok(r.notes.some((n: string) => /5 not among the/.test(n)));
  for (
    const f of [
      "de_predicted.csv",
      "de_measured.csv",
      "enrichment_measured.csv",
      "genes_measured.txt",
      "background.txt",
      "de_genes.gmt",
      "summary.json",
      "enrichment_dots.html",
    ]
  ) {
    assert.ok(Deno.statSync(join(enrichOut, f)).size > 0, f);
  }
  const listed = Deno.readTextFileSync(join(enrichOut, "genes_measured.txt")).trim().split("\n");
  assert.equal(listed.length, r.deGenes.measured);
  assert.equal(cli("enrich", dir, "--slice", "P1_S1").code, 2);
});

Deno.test("a run's metrics as DataFrames: polars summaries of sliceTable and geneTable equal the evaluation", async () => {
  const { dir } = await ridge;
  const ev = evaluateRun(await loadRun(dir));
  const perSlice = sliceTable(ev);
  assert.deepEqual(perSlice.columns, [
    "method",
    "run",
    "test",
    "spots",
    "genes",
    "pcc",
    "rmse",
    "top50",
    "genesExcluded",
  ]);
  assert.equal(perSlice.height, ev.slices.length);
  const [s] = perSlice.select(pl.col("pcc").mean().alias("m"), pl.col("pcc").std().alias("sd"))
    .toRecords();
  assert.ok(Math.abs((s.m as number) - ev.mean.pcc) < 1e-12);
  assert.ok(Math.abs((s.sd as number) - ev.std.pcc) < 1e-12, "polars std = the evaluation's SD");
  // Per gene: one row per (slice, gene); its mean over the non-constant genes is the slice's PCC.
  const genes = geneTable(ev);
  assert.equal(genes.height, ev.perGene.reduce((a, p) => a + p.genes.length, 0));
  const bySlice = rowsOf<{ test: string; pcc: number }>(
    groupInOrder(genes.filter(pl.col("r").isNotNan()), "test", pl.col("r").mean().alias("pcc")),
  );
  for (const b of bySlice) {
    const e = ev.slices.find((x) => x.test === b.test)!;
    assert.ok(Math.abs(b.pcc - e.pcc) < 1e-9, `${b.test}: ${b.pcc} vs ${e.pcc}`);
  }
  const wide = genes.pivot("r", { index: "gene", on: "test", maintainOrder: true });
  assert.deepEqual(wide.columns, ["gene", ...ev.slices.map((x) => x.test)]);
});
