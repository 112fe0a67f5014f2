/**
 * HVG selection against the independent numpy/pandas re-implementation of scanpy in
 * tests/reference/hvg_reference.py (fixture: tests/fixtures/her2st_hvg_expected.json), and the
 * normalisation helpers against hand computations.
 */
import assert from "node:assert/strict";
import { CsrMatrix, readHer2st, WarningLog } from "../lib/mod.ts";
import { hvgSeurat, hvgSeuratV3, pdCutBins, selectGenes } from "../lib/preprocess/hvg.ts";
import { loessFit } from "../lib/preprocess/loess.ts";
import { expressionTarget, MinMaxScaler, normalizeTotal } from "../lib/preprocess/normalize.ts";
import { HAVE_ANNDATA, HER2ST_DIR, python, throwsWith } from "./helpers.ts";

const ref = JSON.parse(
  Deno.readTextFileSync(new URL("./fixtures/her2st_hvg_expected.json", import.meta.url)),
);
const her2st = HER2ST_DIR ? readHer2st(HER2ST_DIR, { log: new WarningLog(false) }) : undefined;
const slice = (n: string) => her2st!.slices.find((s) => s.name === n)!;
const sameSet = (a: string[], b: string[]) => assert.deepEqual([...a].sort(), [...b].sort());

Deno.test("pd.cut binning: right-closed equal-width bins with the lowest edge lowered by 0.1 %", () => {
  assert.deepEqual(Array.from(pdCutBins(Float64Array.from([1, 2, 3, 4, 5]), 2)), [0, 0, 0, 1, 1]);
  assert.deepEqual(Array.from(pdCutBins(Float64Array.from([0, 1, 2, 3, 4]), 4)), [0, 0, 1, 2, 3]);
  assert.deepEqual(Array.from(pdCutBins(Float64Array.from([7, 7, 7]), 3)), [1, 1, 1]);
});

Deno.test("LOESS reproduces polynomials of its degree exactly and matches a numpy least-squares LOESS", () => {
  const x = Array.from({ length: 200 }, (_, i) => i / 10 + Math.sin(i) * 0.01);
  const quad = x.map((v) => 3 - 2 * v + 0.5 * v * v);
  loessFit(x, quad, 0.3, 2).forEach((f, i) =>
    assert.ok(Math.abs(f - quad[i]) < 1e-7, `${f} vs ${quad[i]}`)
  );
  const lin = x.map((v) => 1 + 4 * v);
  loessFit(x, lin, 0.5, 1).forEach((f, i) => assert.ok(Math.abs(f - lin[i]) < 1e-8));
  if (!HAVE_ANNDATA) return;
  const noisy = x.map((v, i) => Math.sin(v) + ((i * 7919) % 13) / 13);
  const expected: number[] = JSON.parse(python(
    `
import json, sys, numpy as np
x = np.array(json.loads(sys.argv[1])); y = np.array(json.loads(sys.argv[2])); q = int(np.floor(len(x) * 0.3)); out = []
for i in range(len(x)):
    d = np.abs(x - x[i]); idx = np.argsort(d, kind="stable")[:q]; w = (1 - (d[idx] / d[idx].max()) ** 3) ** 3
    A = np.stack([np.ones(q), x[idx] - x[i], (x[idx] - x[i]) ** 2], 1) * np.sqrt(w)[:, None]
    out.append(float(np.linalg.lstsq(A, y[idx] * np.sqrt(w), rcond=None)[0][0]))
print(json.dumps(out))`,
    JSON.stringify(x),
    JSON.stringify(noisy),
  ));
  loessFit(x, noisy, 0.3, 2).forEach((f, i) =>
    assert.ok(Math.abs(f - expected[i]) < 1e-9, `point ${i}: ${f} vs ${expected[i]}`)
  );
});

Deno.test("library-size normalisation, log targets and min–max scaling fitted on training data", () => {
  const m = CsrMatrix.fromDense(2, 3, [1, 3, 0, 0, 0, 0]);
  assert.deepEqual(Array.from(normalizeTotal(m, 100).toDense()), [25, 75, 0, 0, 0, 0]);
  const med = CsrMatrix.fromDense(3, 2, [1, 1, 4, 0, 3, 3]); // totals 2, 4, 6 → median 4
  assert.deepEqual(Array.from(normalizeTotal(med, "median").toDense()), [2, 2, 4, 0, 2, 2]);
  const t = expressionTarget(m, [1, 0], "paper");
  assert.ok(
    Math.abs(t[0] - Math.log1p(0.75e6)) < 1e-3 && Math.abs(t[1] - Math.log1p(0.25e6)) < 1e-3,
  );
  const r = expressionTarget(m, [1], "released");
  assert.ok(Math.abs(r[0] - Math.log10(1 + Math.log1p(0.75e6))) < 1e-6);
  const train = MinMaxScaler.fit([Float32Array.from([0, 10, 2, 10])], 2);
  assert.deepEqual(Array.from(train.transform(Float32Array.from([1, 10, 4, 10]))), [0.5, 0, 2, 0]);
});

Deno.test({
  name:
    "seurat HVGs of A1 (median library size, top 1500) and B1 (1e6, top 1000) equal the reference",
  ignore: !her2st,
  fn() {
    const a1 = slice("A1");
    const r = hvgSeurat(normalizeTotal(a1.counts, "median"), 1500);
    sameSet(a1.genes.filter((_, g) => r.highlyVariable[g]), ref.A1_seurat_median_1500.hvg);
    for (
      const [g, [mean, dn]] of Object.entries(ref.A1_seurat_median_1500.sample) as [
        string,
        number[],
      ][]
    ) {
      const j = a1.genes.indexOf(g);
      assert.ok(Math.abs(r.means[j] - mean) < 1e-7, `${g} mean`); // float32 normalised values
      assert.ok(
        Math.abs(r.dispersionsNorm[j] - dn) < 1e-6,
        `${g} dispersion_norm ${r.dispersionsNorm[j]} vs ${dn}`,
      );
    }
    const b1 = slice("B1");
    const rb = hvgSeurat(normalizeTotal(b1.counts, 1e6), 1000);
    sameSet(b1.genes.filter((_, g) => rb.highlyVariable[g]), ref.B1_seurat_1e6_1000.hvg);
  },
});

Deno.test({
  name: "the histogene recipe yields the 785-gene HER2+ list, in the reference's order",
  ignore: !her2st,
  fn() {
    const sel = selectGenes(her2st!.slices, {
      recipe: "histogene",
      flavor: "seurat",
      nTop: 1000,
      targetSum: 1e6,
    });
    assert.equal(sel.genes.length, 785);
    assert.deepEqual(sel.genes, ref.histogene);
    assert.equal(sel.params.referenceSlice, "A1");
    assert.deepEqual(sel.params.detectionSlices, her2st!.slices.map((s) => s.name).slice(1, 33));
    assert.ok(sel.genes.includes("FASN")); // ERBB2 is not: its A1 dispersion (normalised 1, a one-gene bin) misses the top 1500
  },
});

Deno.test({
  name: "seurat_v3 HVGs of C1 (genes in ≥ 10 spots) equal the reference's top 1000",
  ignore: !her2st,
  fn() {
    const c1 = slice("C1");
    const cols = ref.C1_seurat_v3_1000_min10.genes.map((g: string) => c1.genes.indexOf(g));
    const sub = c1.counts.selectCols(cols);
    const r = hvgSeuratV3(sub, 1000);
    const genes: string[] = ref.C1_seurat_v3_1000_min10.genes;
    sameSet(genes.filter((_, g) => r.highlyVariable[g]), ref.C1_seurat_v3_1000_min10.hvg);
    for (const [g, v] of Object.entries(ref.C1_seurat_v3_1000_min10.sample) as [string, number][]) {
      const j = genes.indexOf(g);
      assert.ok(
        Math.abs(r.dispersionsNorm[j] - v) < 1e-6 * Math.abs(v),
        `${g}: ${r.dispersionsNorm[j]} vs ${v}`,
      );
    }
  },
});

Deno.test({
  name:
    "batch-ranked over the six imaged sections equals scanpy batch_key ranking; the 36-slice intersection is empty",
  ignore: !her2st,
  async fn() {
    const six = ["B4", "C2", "C3", "C4", "C5", "C6"].map(slice);
    const sel = selectGenes(six, {
      recipe: "batch-ranked",
      flavor: "seurat",
      nTop: 500,
      targetSum: 1e6,
    });
    assert.deepEqual(sel.genes, ref.batch_ranked_six_500);
    await throwsWith(
      () =>
        selectGenes(her2st!.slices, {
          recipe: "intersection",
          flavor: "seurat",
          nTop: 1000,
          targetSum: 1e6,
        }),
      "intersection of per-slice top-1000 HVGs over 36 slices is empty",
      "--recipe batch-ranked",
      "--recipe histogene",
    );
    const inter = selectGenes(six, {
      recipe: "intersection",
      flavor: "seurat",
      nTop: 1000,
      targetSum: 1e6,
    });
    assert.ok(inter.genes.length > 0 && inter.genes.length < 1000);
    assert.deepEqual(inter.perSlice.map((p) => p.name), ["B4", "C2", "C3", "C4", "C5", "C6"]);
  },
});
