/** AnnData .h5ad: our round trip, Python anndata reading our files, and us reading Python's. */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  type AnnData,
  annDataToSlice,
  CsrMatrix,
  generateSynthetic,
  readH5ad,
  sliceToAnnData,
  writeH5ad,
} from "../lib/mod.ts";
import { HAVE_ANNDATA, python, tempDir, throwsWith, writeText } from "./helpers.ts";

const slice =
  generateSynthetic({ patients: 1, sectionsPerPatient: 1, grid: 8, genes: 45 }).slices[0];

Deno.test("a slice round-trips through .h5ad unchanged (CSR counts, coordinates, labels, uns)", async () => {
  const f = join(tempDir(), "s.h5ad");
  const withNull = {
    ...slice,
    labels: { domain: slice.labels.domain.map((v, i) => (i === 0 ? null : v)) },
  };
  await writeH5ad(f, sliceToAnnData(withNull));
  const back = annDataToSlice(await readH5ad(f), f);
  assert.equal(back.name, slice.name);
  assert.equal(back.patient, slice.patient);
  assert.deepEqual(back.spots, slice.spots);
  assert.deepEqual(back.genes, slice.genes);
  assert.deepEqual(Array.from(back.counts.data), Array.from(slice.counts.data));
  assert.deepEqual(Array.from(back.counts.indices), Array.from(slice.counts.indices));
  assert.deepEqual(Array.from(back.counts.indptr), Array.from(slice.counts.indptr));
  assert.deepEqual(Array.from(back.pixel.x), Array.from(slice.pixel.x));
  assert.deepEqual(Array.from(back.array.y), Array.from(slice.array.y));
  assert.deepEqual(back.labels.domain, withNull.labels.domain);
});

Deno.test("dense X round-trips, and shape mismatches are rejected", async () => {
  const f = join(tempDir(), "d.h5ad");
  const ad: AnnData = {
    X: { nRows: 2, nCols: 3, data: new Float32Array([1, 2, 3, 4, 5, 6]) },
    obsNames: ["a", "b"],
    varNames: ["g1", "g2", "g3"],
    obs: { n: new Float64Array([1, 2]), tag: ["x", "y"] },
    var: {},
    obsm: {},
    layers: { measured: { nRows: 2, nCols: 3, data: new Float32Array([6, 5, 4, 3, 2, 1]) } },
    uns: { note: "hi", k: 3 },
  };
  await writeH5ad(f, ad);
  const back = await readH5ad(f);
  assert.deepEqual(Array.from(back.layers!.measured.data), [6, 5, 4, 3, 2, 1]);
  await assert.rejects(
    () => writeH5ad(f, { ...ad, layers: { m: { nRows: 2, nCols: 2, data: new Float32Array(4) } } }),
    /layers\['m'\] is 2×2, expected 2×3/,
  );
  assert.deepEqual(Array.from((back.X as { data: Float32Array }).data), [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(back.obs.tag, ["x", "y"]);
  assert.deepEqual(Array.from(back.obs.n as Float64Array), [1, 2]);
  assert.deepEqual(back.uns, { note: "hi", k: 3 });
  await assert.rejects(() => writeH5ad(f, { ...ad, obsNames: ["a"] }), /2×3 but there are 1 obs/);
  await throwsWith(() => readH5ad(join(tempDir(), "none.h5ad")), "none.h5ad", "not found");
  await throwsWith(
    () => readH5ad(writeText(tempDir(), "bad.h5ad", "nope")),
    "bad.h5ad",
    "not a readable HDF5",
  );
});

Deno.test({
  name: "Python anndata reads our .h5ad with the same values",
  ignore: !HAVE_ANNDATA,
  async fn() {
    const f = join(tempDir(), "ours.h5ad");
    const ad = sliceToAnnData(slice);
    const n = slice.counts.nRows, G = slice.counts.nCols;
    const layer = Float32Array.from(slice.counts.toDense(), (v, k) => v + k);
    await writeH5ad(f, { ...ad, layers: { shifted: { nRows: n, nCols: G, data: layer } } });
    const out = JSON.parse(python(
      `
import anndata, json, sys
a = anndata.read_h5ad(sys.argv[1])
print(json.dumps({"shape": list(a.shape), "sum": float(a.X.sum()), "nnz": int(a.X.nnz), "obs0": a.obs_names[0], "var3": a.var_names[3],
  "domain": [str(v) for v in a.obs["label_domain"]], "dtype": str(a.obs["label_domain"].dtype),
  "spatial0": [float(v) for v in a.obsm["spatial"][0]], "patient": a.uns["patient"], "array_x5": float(a.obs["array_x"].iloc[5]),
  "layer_1_2": float(a.layers["shifted"][1, 2])}))`,
      f,
    ));
    assert.deepEqual(out.shape, [slice.counts.nRows, slice.counts.nCols]);
    assert.equal(out.sum, slice.counts.sum());
    assert.equal(out.nnz, slice.counts.nnz);
    assert.equal(out.obs0, slice.spots[0]);
    assert.equal(out.var3, slice.genes[3]);
    assert.deepEqual(out.domain, slice.labels.domain);
    assert.equal(out.dtype, "category");
    assert.deepEqual(out.spatial0, [slice.pixel.x[0], slice.pixel.y[0]]);
    assert.equal(out.patient, slice.patient);
    assert.equal(out.array_x5, slice.array.x[5]);
    assert.equal(out.layer_1_2, layer[1 * G + 2]);
  },
});

Deno.test({
  name:
    "we read .h5ad files written by Python anndata (CSR and dense X, categoricals with NaN, strings, obsm)",
  ignore: !HAVE_ANNDATA,
  async fn() {
    const dir = tempDir();
    python(
      `
import anndata, numpy as np, pandas as pd, scipy.sparse as sp, sys
X = np.array([[0, 1, 0], [2, 0, 3], [0, 0, 4], [5, 6, 0]], dtype=np.float32)
obs = pd.DataFrame({"region": pd.Categorical(["tumour", None, "stroma", "tumour"]), "name": ["a", "b", "c", "d"],
                    "array_row": np.array([1, 2, 3, 4], dtype=np.int64)}, index=["s0", "s1", "s2", "s3"])
var = pd.DataFrame(index=["G1", "G2", "G3"])
a = anndata.AnnData(X=sp.csr_matrix(X), obs=obs, var=var, obsm={"spatial": np.array([[10., 20.], [11., 21.], [12., 22.], [13., 23.]])})
a.uns["slice_name"] = "py"
a.write_h5ad(sys.argv[1] + "/csr.h5ad")
a.X = X
a.write_h5ad(sys.argv[1] + "/dense.h5ad")
b = a.copy(); b.X = sp.csc_matrix(X); b.write_h5ad(sys.argv[1] + "/csc.h5ad")
a.layers["measured"] = X * 2
a.write_h5ad(sys.argv[1] + "/layers.h5ad")
`,
      dir,
    );
    for (const name of ["csr", "dense", "csc"]) {
      const ad = await readH5ad(join(dir, `${name}.h5ad`));
      const dense = "indptr" in ad.X ? (ad.X as CsrMatrix).toDense() : ad.X.data;
      assert.deepEqual(Array.from(dense), [0, 1, 0, 2, 0, 3, 0, 0, 4, 5, 6, 0], name);
      assert.deepEqual(ad.obsNames, ["s0", "s1", "s2", "s3"]);
      assert.deepEqual(ad.varNames, ["G1", "G2", "G3"]);
      assert.deepEqual(ad.obs.region, { categorical: ["tumour", null, "stroma", "tumour"] });
      assert.deepEqual(ad.obs.name, ["a", "b", "c", "d"]);
      assert.deepEqual(Array.from(ad.obs.array_row as Float64Array), [1, 2, 3, 4]);
      assert.deepEqual(Array.from(ad.obsm.spatial.data), [10, 20, 11, 21, 12, 22, 13, 23]);
      assert.equal(ad.uns.slice_name, "py");
      const s = annDataToSlice(ad, name);
      assert.deepEqual(Array.from(s.array.y), [1, 2, 3, 4]);
    }
    const withLayer = await readH5ad(join(dir, "layers.h5ad"));
    assert.deepEqual(Array.from(withLayer.layers!.measured.data), [
      0,
      2,
      0,
      4,
      0,
      6,
      0,
      0,
      8,
      10,
      12,
      0,
    ]);
  },
});
