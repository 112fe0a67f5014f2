/**
 * AnnData as scanpy and squidpy users write it (fixtures made here with Debian's python3-anndata):
 * per-slice files and one concatenated file, images in uns['spatial'], counts in X, a layer or
 * raw — and every bad-input class an error naming the file, spot or gene.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { loadDataset } from "../lib/datasets/registry.ts";
import { WarningLog } from "../lib/errors.ts";
import { builtinExtractor, sliceFeatures } from "../lib/features/extractors.ts";
import { pl } from "../lib/table/frame.ts";
import { generateSynthetic } from "../lib/data/synthetic.ts";
import { Rng } from "../lib/util/random.ts";
import { runNotebook } from "../lib/notebook/runner.ts";
import { PROJECT_ROOT } from "../lib/paths.ts";
import { cli, HAVE_ANNDATA, python, tempDir, throwsWith } from "./helpers.ts";

/** Writes the fixtures into a fresh folder; returns it. */
function fixtures(): string {
  const dir = tempDir();
  python(
    `
import sys, os, numpy as np, pandas as pd, scipy.sparse as sp, anndata as ad
out = sys.argv[1]
rng = np.random.default_rng(1)
G, n = 40, 60
genes = [f"G{j}" for j in range(G)]
def section(lib, patient, shift):
    counts = rng.poisson(3 + shift, (n, G)).astype(np.float32)
    a = ad.AnnData(X=sp.csr_matrix(counts), obs=pd.DataFrame(index=[f"{lib}_spot{i}" for i in range(n)]),
                   var=pd.DataFrame(index=genes))
    a.obs["patient"] = pd.Categorical([patient] * n)
    a.obs["array_row"] = np.arange(n) // 10; a.obs["array_col"] = np.arange(n) % 10
    # full-resolution pixels in a 1000 x 1000 frame; the hires image is 0.2 of it
    a.obsm["spatial"] = np.stack([100 + 80 * (np.arange(n) % 10), 100 + 80 * (np.arange(n) // 10)], 1).astype(float)
    img = rng.uniform(0.3, 0.9, (200, 200, 3)).astype(np.float32)
    a.uns["spatial"] = {lib: {"images": {"hires": img}, "scalefactors": {"tissue_hires_scalef": 0.2, "spot_diameter_fullres": 60.0}}}
    return a
a, b = section("libA", "P1", 0), section("libB", "P2", 1)
os.makedirs(f"{out}/per_slice")
a.write_h5ad(f"{out}/per_slice/libA.h5ad"); b.write_h5ad(f"{out}/per_slice/libB.h5ad")
# concatenated, normalised the scanpy way, counts kept in a layer
c = ad.concat({"libA": a, "libB": b}, label="library_id", uns_merge="unique")
c.layers["counts"] = c.X.copy()
X = c.X.toarray(); X = np.log1p(X / X.sum(1, keepdims=True) * 1e4); c.X = sp.csr_matrix(X)
c.write_h5ad(f"{out}/concat.h5ad")
# counts in raw instead
r = a.copy(); r.raw = r.copy(); r.X = sp.csr_matrix(np.log1p(r.X.toarray())); r.write_h5ad(f"{out}/raw.h5ad")
# bad inputs
bad = a.copy(); bad.X = sp.csr_matrix(np.log1p(bad.X.toarray())); bad.write_h5ad(f"{out}/normalised.h5ad")
dup = a.copy(); dup.obs_names = ["s0"] + [f"s{i}" for i in range(n - 1)]; dup.write_h5ad(f"{out}/duplicated.h5ad")
idx = a.copy(); idx.obsm["spatial"] = np.stack([np.arange(n) % 10, np.arange(n) // 10], 1).astype(float); idx.write_h5ad(f"{out}/indices.h5ad")
far = a.copy(); far.uns["spatial"]["libA"]["scalefactors"]["tissue_hires_scalef"] = 2.0; far.write_h5ad(f"{out}/uncovered.h5ad")
os.makedirs(f"{out}/gaps")
a.write_h5ad(f"{out}/gaps/libA.h5ad"); b[:, 5:].copy().write_h5ad(f"{out}/gaps/libB.h5ad")
os.makedirs(f"{out}/noimage")
for x in (a, b):
    y = x.copy(); del y.uns["spatial"]; y.write_h5ad(f"{out}/noimage/{list(x.uns['spatial'])[0]}.h5ad")
data = open(f"{out}/per_slice/libA.h5ad", "rb").read()
open(f"{out}/truncated.h5ad", "wb").write(data[: len(data) // 2])
`,
    dir,
  );
  return dir;
}

Deno.test({
  name:
    "scanpy's per-slice and concatenated .h5ad layouts load with their images, counts and patients",
  ignore: !HAVE_ANNDATA,
  async fn() {
    const dir = fixtures();
    const per = await loadDataset(join(dir, "per_slice"), { log: new WarningLog(false) });
    assert.deepEqual(per.slices.map((s) => [s.name, s.patient, s.spots.length]), [
      ["libA", "P1", 60],
      ["libB", "P2", 60],
    ]);
    const img = per.slices[0].image!;
    assert.equal(img.scale, 0.2);
    assert.deepEqual([img.pixels!.width, img.pixels!.height], [200, 200]);
    // scanpy stores hires as float in [0, 1]: read back as 8-bit RGB, not as zeros.
    const px = img.pixels!.data;
    assert.ok(
      px.reduce((a, v) => Math.max(a, v), 0) > 200 && px.reduce((a, v) => Math.min(a, v), 255) > 60,
    );
    assert.deepEqual([per.slices[0].array.x[13], per.slices[0].array.y[13]], [3, 1]);

    // The image is wired through to the encoder: a patch per spot.
    const ex = builtinExtractor({ workers: 1 });
    try {
      const e = await sliceFeatures(per.slices[0], ex, null);
      assert.deepEqual([e.n, e.dim], [60, 276]);
    } finally {
      await ex.close();
    }

    const log = new WarningLog(false);
    const cat = await loadDataset(join(dir, "concat.h5ad"), {
      anndata: { sliceKey: "library_id" },
      log,
    });
    assert.deepEqual(cat.slices.map((s) => [s.name, s.patient, s.spots.length]), [
      ["libA", "P1", 60],
      ["libB", "P2", 60],
    ]);
    // Same counts as the per-slice files (X there is normalised: counts came from the layer).
    assert.equal(cat.slices[1].counts.sum(), per.slices[1].counts.sum());
    assert.equal(cat.slices[1].spots[0], "libB_spot0");
    assert.equal(cat.slices[1].image!.scale, 0.2);
    assert.ok(
      log.warnings.some((w) => /counts taken from layers\['counts'\]/.test(w.message)),
      JSON.stringify(log.warnings),
    );
    const raw = await loadDataset(join(dir, "raw.h5ad"), { log: new WarningLog(false) });
    assert.equal(raw.slices[0].counts.sum(), per.slices[0].counts.sum());
    const asked = await loadDataset(join(dir, "concat.h5ad"), {
      anndata: { sliceKey: "library_id", countsLayer: "counts", patientKey: "patient" },
      log: new WarningLog(false),
    });
    assert.equal(asked.slices[0].counts.sum(), per.slices[0].counts.sum());

    // The own-data notebook runs on it as a user would point it there.
    const nb = await runNotebook(join(PROJECT_ROOT, "notebooks/01_your_data.ipynb"), {
      engine: "deno",
      outputDir: join(dir, "executed"),
      env: {
        SPAHGC_FIGURES_DIR: join(dir, "figures"),
        SPAHGC_PARAMS: JSON.stringify({ data: join(dir, "per_slice"), nTop: 30, epochs: 2 }),
      },
    });
    assert.deepEqual(nb.failures, []);
    assert.ok(nb.ok);
    const rows = Deno.readTextFileSync(join(dir, "figures/01_your_data/per_slice.csv")).trim()
      .split("\n");
    assert.deepEqual(rows.slice(1).map((r) => r.split(",")[0]), ["libA", "libB"]);
    const m = JSON.parse(Deno.readTextFileSync(join(dir, "figures/01_your_data/manifest.json")));
    assert.deepEqual(m.dataset.slices, ["libA", "libB"]);
    assert.ok(m.outputs.includes("spatial_map.html"));

    // The command line reads the same, and trains on it.
    const info = cli(
      "data",
      "info",
      join(dir, "concat.h5ad"),
      "--slice-key",
      "library_id",
      "--json",
    );
    assert.equal(info.code, 0, info.stderr);
    assert.deepEqual(JSON.parse(info.stdout).slices.map((s: { name: string }) => s.name), [
      "libA",
      "libB",
    ]);
    const train = cli(
      "train",
      join(dir, "per_slice"),
      "--method",
      "ridge",
      "--cache",
      "none",
      "--n-top",
      "30",
      "--json",
    );
    assert.equal(train.code, 0, train.stderr);
    assert.deepEqual(JSON.parse(train.stdout).folds.map((f: { test: string }) => f.test), [
      "libA",
      "libB",
    ]);
  },
});

Deno.test({
  name: "bad AnnData input: each class a clear error naming the file and the spot or gene",
  ignore: !HAVE_ANNDATA,
  async fn() {
    const dir = fixtures();
    const load = (f: string, o = {}) =>
      loadDataset(join(dir, f), { anndata: o, log: new WarningLog(false) });
    await throwsWith(
      () => load("normalised.h5ad"),
      "normalised.h5ad",
      "not a count",
      "spot libA_spot0",
      "gene G",
      "--counts-layer",
    );
    await throwsWith(
      () => load("normalised.h5ad", { countsLayer: "spliced" }),
      "no counts at 'spliced'",
      "the file has: X",
    );
    await throwsWith(
      () => load("duplicated.h5ad"),
      "duplicated.h5ad",
      "spot s0",
      "appears twice",
      "rows 1 and 2",
    );
    await throwsWith(() => load("indices.h5ad"), "indices.h5ad", "looks like array indices");
    await throwsWith(
      () => load("uncovered.h5ad"),
      "uncovered.h5ad",
      "fall outside",
      "does not cover",
    );
    await throwsWith(() => load("truncated.h5ad"), "truncated.h5ad", "truncated HDF5 file");
    await throwsWith(
      () => load("concat.h5ad", { sliceKey: "sample" }),
      "no obs column 'sample'",
      "library_id",
    );
    await throwsWith(
      () => load("per_slice/libA.h5ad", { patientKey: "donor" }),
      "no obs column 'donor'",
    );
    const log = new WarningLog(false);
    await loadDataset(join(dir, "gaps"), { log });
    assert.ok(
      log.warnings.some((w) =>
        /slice libB lacks 5 of the 40 genes .*keeps only the 35 genes/.test(w.message)
      ),
      JSON.stringify(log.warnings),
    );
    // No image, no embeddings: the default slices are none, and the message says what to pass.
    const noimg = cli("train", join(dir, "noimage"), "--method", "ridge");
    assert.equal(noimg.code, 1);
    assert.match(noimg.stderr, /2 slice\(s\) in noimage, 0 with an image .* --encoder file:DIR/);
    // On the command line: exit 1 and one line, never a stack trace or HDF5 diagnostics.
    const r = cli("data", "info", join(dir, "truncated.h5ad"));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error: .*truncated\.h5ad: truncated HDF5 file: \d+ bytes/);
    assert.ok(!/HDF5-DIAG|at async/.test(r.stderr), r.stderr);
  },
});

Deno.test({
  name: "own embeddings: Parquet tables and .h5ad obsm under a chosen key train like any other",
  ignore: !HAVE_ANNDATA,
  fn() {
    const dir = tempDir();
    const ds = generateSynthetic();
    const rng = new Rng(3);
    const pq = join(dir, "parquet"), h5 = join(dir, "h5ad");
    Deno.mkdirSync(pq);
    Deno.mkdirSync(h5);
    for (const s of ds.slices) {
      const dims = Array.from({ length: 6 }, () => Array.from(s.spots, () => rng.normal()));
      pl.DataFrame({ spot: s.spots, ...Object.fromEntries(dims.map((d, j) => [`f${j}`, d])) })
        .writeParquet(join(pq, `${s.name}.parquet`));
      Deno.writeTextFileSync(
        join(h5, `${s.name}.json`),
        JSON.stringify({ spots: s.spots, x: dims }),
      );
    }
    python(
      `
import sys, json, glob, numpy as np, pandas as pd, anndata as ad
for f in glob.glob(sys.argv[1] + "/*.json"):
    d = json.load(open(f))
    a = ad.AnnData(obs=pd.DataFrame(index=d["spots"]))
    a.obsm["X_uni"] = np.array(d["x"]).T
    a.write_h5ad(f[:-5] + ".h5ad")
`,
      h5,
    );
    const train = (...args: string[]) =>
      cli("train", "synthetic", "--method", "ridge", "--folds", "P1_S1", "--json", ...args);
    const a = train("--encoder", `file:${pq}`);
    assert.equal(a.code, 0, a.stderr);
    const b = train("--encoder", `file:${h5}`, "--embedding-key", "X_uni");
    assert.equal(b.code, 0, b.stderr);
    // The same numbers through both formats (the same embeddings).
    assert.equal(JSON.parse(a.stdout).folds[0].pcc, JSON.parse(b.stdout).folds[0].pcc);
    const wrongKey = train("--encoder", `file:${h5}`, "--embedding-key", "X_conch");
    assert.equal(wrongKey.code, 1);
    assert.match(wrongKey.stderr, /no obsm\['X_conch'\] \(has: X_uni\)/);
    const notFile = train("--embedding-key", "X_uni");
    assert.match(notFile.stderr, /--embedding-key applies to --encoder file:/);
  },
});
