/**
 * HEST-1k and HEST-Benchmark: readers, patch sources, selection, cohorts, the probe and both
 * readings, on folders the tests write in the hest library's layout (anndata/h5py/json from
 * Debian's Python, tiled pyramidal TIFF from libvips).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { loadDataset, PROJECT_ROOT, runNotebook, WarningLog } from "../lib/mod.ts";
import { extractPatches, forEachPatchChunk } from "../lib/features/patches.ts";
import { readSplit, summariseReadings } from "../lib/eval/hest_readings.ts";
import { hestProbe, hestTargets, type ProbeSample } from "../lib/model/baselines/hest_probe.ts";
import { defaultGeneParams, defaultSplit } from "../lib/datasets/registry.ts";
import { parseHestQuery } from "../lib/io/hest.ts";
import { expandSpec } from "../lib/sweep/spec.ts";
import { readEmbeddingFile } from "../lib/features/precomputed.ts";
import { cli, cliJson, HAVE_ANNDATA, python, tempDir, throwsWith } from "./helpers.ts";
import {
  type FixtureSample,
  fixtureSlices,
  writeHestBenchTask,
  writeHestRoot,
} from "./support/hest_fixture.ts";

const SAMPLES: FixtureSample[] = [
  { id: "LN1", from: 0 },
  { id: "LN2", from: 1, dropPatches: 3, extraPatches: 2 },
  { id: "LN3", from: 2, xenium: true },
  { id: "PA1", from: 3, organ: "Pancreas", patches: false, pixelSize: null },
  { id: "LN4", from: 0, disease_state: "Healthy", wsi: false, patches: false, patient: null },
];

let fixture: Promise<string> | undefined;
/** One HEST root for the module: DATA/hest with the samples above. */
function hestRoot(): Promise<string> {
  fixture ??= writeHestRoot(join(tempDir(), "hest"), SAMPLES);
  return fixture;
}

const quiet = () => new WarningLog(false);
const ignore = !HAVE_ANNDATA;

Deno.test({
  name: "HEST root: samples, patients from metadata, barcode join reported, Xenium pseudo-spots",
  ignore,
  async fn() {
    const root = await hestRoot();
    const log = quiet();
    const ds = await loadDataset(root, { log });
    const src = fixtureSlices();
    assert.deepEqual(ds.slices.map((s) => s.name), ["LN1", "LN2", "LN3", "LN4", "PA1"]);
    const by = Object.fromEntries(ds.slices.map((s) => [s.name, s]));
    assert.equal(by.LN1.patient, src[0].patient);
    assert.equal(by.LN3.patient, src[2].patient);
    // LN4's metadata has patient NaN: the id stands in, and it is said.
    assert.equal(by.LN4.patient, "LN4");
    assert.ok(log.warnings.some((w) => w.message.includes("LN4: its metadata names no patient")));
    // Counts and genes as written.
    assert.deepEqual(by.LN1.genes, src[0].genes);
    assert.deepEqual(by.LN1.spots, src[0].spots);
    assert.deepEqual(Array.from(by.LN1.counts.data), Array.from(src[0].counts.data));
    // LN2: the patch file lacks 3 spots (dropped, counted) and has 2 extra patches (ignored).
    assert.equal(by.LN2.spots.length, src[1].spots.length - 3);
    assert.deepEqual(by.LN2.spots, src[1].spots.slice(3));
    assert.ok(
      log.warnings.some((w) =>
        w.message.startsWith(`3 of ${src[1].spots.length} spots of LN2 have no patch`)
      ),
    );
    assert.ok(log.warnings.some((w) => w.message.startsWith("2 patches of LN2 belong to no spot")));
    // LN3: dense uint16 X with HEST's pseudo-spot names; the grid gives array coordinates.
    assert.match(by.LN3.spots[0], /^\d{3}x\d{3}$/);
    const total = (s: typeof src[0]) => s.counts.data.reduce((a, b) => a + b, 0);
    assert.equal(total(by.LN3), total(src[2]));
    assert.deepEqual(Array.from(by.LN3.array.x), Array.from(src[2].array.x));
    // Images: patch files where present, the WSI (112 µm at 2 µm/px = 56 px) otherwise.
    assert.equal(by.LN1.image?.patchFile?.side, 224);
    assert.equal(by.LN1.image?.patchAreaPx, 56);
    assert.equal(by.PA1.image, undefined); // no pixel size: but also read without error
    assert.equal(by.LN4.image, undefined);
    assert.ok(
      log.warnings.some((w) => w.message.includes("LN4: neither wsis/LN4.tif nor patches/LN4.h5")),
    );
  },
});

Deno.test({
  name: "HEST selection: metadata filters, ids, named cohorts, and what fails",
  ignore,
  async fn() {
    const root = await hestRoot();
    const ln = await loadDataset(`${root}?organ=Lymph node&disease_state!=Healthy`, {
      log: quiet(),
    });
    assert.deepEqual(ln.slices.map((s) => s.name), ["LN1", "LN2", "LN3"]);
    const cohort = await loadDataset("hest-lymph-node", {
      dataDir: join(root, ".."),
      log: quiet(),
    });
    assert.deepEqual(cohort.slices.map((s) => s.name), ["LN1", "LN2", "LN3"]);
    const xen = await loadDataset("hest-pancreas-xenium", {
      dataDir: join(root, ".."),
      log: quiet(),
    })
      .catch((e) => e as Error);
    assert.ok(
      xen instanceof Error && xen.message.includes("no HEST sample matches organ=Pancreas"),
    );
    const ids = await loadDataset(`${root}?id=LN3,LN1`, { log: quiet() });
    assert.deepEqual(ids.slices.map((s) => s.name), ["LN3", "LN1"]);
    assert.deepEqual(parseHestQuery("st_technology=Visium,Xenium&source=wsi"), {
      source: "wsi",
      where: [{ field: "st_technology", op: "=", values: ["Visium", "Xenium"] }],
    });
    await throwsWith(
      () => loadDataset(`${root}?id=NOPE`, { log: quiet() }),
      "sample(s) NOPE not in",
    );
    await throwsWith(
      () => loadDataset(`${root}?organ~x`, { log: quiet() }),
      "expected field=value",
    );
    await throwsWith(
      () => loadDataset(`${root}?organn=Lymph node`, { log: quiet() }),
      "no sample's metadata has a field 'organn'",
      "organ",
    );
    await throwsWith(
      () => loadDataset(`${root}?id=PA1&source=wsi`, { log: quiet() }),
      "metadata/PA1.json",
      "neither pixel_size_um_estimated nor pixel_size_um_embedded",
    );
    await throwsWith(
      () => loadDataset(`${root}?id=LN4&source=wsi`, { log: quiet() }),
      "wsis/LN4.tif",
      "no whole-slide image",
    );
    await throwsWith(
      () => loadDataset(`${join(root, "st")}?organ=x`, { log: quiet() }),
      "is not a HEST-1k folder",
    );
    // The released code's genes for HEST cohorts: per-sample seurat_v3 top 1000, intersected.
    const g = defaultGeneParams("hest-lymph-node");
    assert.deepEqual([g.recipe, g.flavor, g.nTop], ["intersection", "seurat_v3", 1000]);
    assert.equal(defaultGeneParams(root).flavor, "seurat_v3");
  },
});

Deno.test({
  name:
    "HEST patches: patch file, whole decode and bands agree; odd patch files are reported or refused",
  ignore,
  async fn() {
    const root = await hestRoot();
    const ds = await loadDataset(`${root}?id=LN1`, { log: quiet() });
    const s = ds.slices[0];
    const fromFile = await extractPatches(s, { size: 112 });
    assert.equal(fromFile.source, "patch-file");
    const wsi = { ...s, image: { ...s.image!, patchFile: undefined } };
    const whole = await extractPatches(wsi, { size: 112 });
    const bands = await extractPatches(wsi, { size: 112, maxDecodeBytes: 1 });
    assert.equal(whole.source, "decoded");
    assert.equal(bands.source, "bands");
    // At the image's own resolution (factor 1) bands and the whole image give identical pixels.
    assert.deepEqual(bands.data, whole.data);
    // Chunks (what the encoders consume, so memory holds one chunk) reassemble to the same.
    const per = 112 * 112 * 3, again = new Uint8Array(whole.data.length);
    let chunks = 0;
    await forEachPatchChunk(wsi, { size: 112, chunk: 7, maxDecodeBytes: 1 }, (c) => {
      assert.ok(c.spots.length <= 7);
      chunks++;
      c.spots.forEach((i, k) => again.set(c.data.subarray(k * per, (k + 1) * per), i * per));
    });
    assert.equal(chunks, Math.ceil(s.spots.length / 7));
    assert.deepEqual(again, whole.data);
    const mad = (a: Uint8Array, b: Uint8Array) =>
      a.reduce((t, v, i) => t + Math.abs(v - b[i]), 0) / a.length;
    // HEST's nearest-neighbour upsampling vs our bilinear one: the same tissue, a few grey levels apart.
    assert.ok(
      mad(fromFile.data, whole.data) < 16,
      `patch file vs WSI ${mad(fromFile.data, whole.data)}`,
    );
    // Downscaled (1/4): bands are resized by libvips band by band, the whole image at once, so
    // pixels sit at other sub-pixel phases (the synthetic texture is per-pixel noise); each
    // patch's mean colour — the same tissue in the same place — must agree.
    const w14 = await extractPatches(wsi, { size: 14 });
    const b14 = await extractPatches(wsi, { size: 14, maxDecodeBytes: 1 });
    const means = (p: typeof w14) =>
      Array.from({ length: p.n * 3 }, (_, k) => {
        const i = Math.floor(k / 3), c = k % 3;
        let t = 0;
        for (let q = 0; q < 14 * 14; q++) t += p.data[i * 14 * 14 * 3 + q * 3 + c];
        return t / (14 * 14);
      });
    const mw = means(w14), mb = means(b14);
    const worst = Math.max(...mw.map((v, k) => Math.abs(v - mb[k])));
    assert.ok(worst < 3, `patch mean colours, bands vs whole at 1/4: up to ${worst}`);

    // Patches of another side: used, resampled, and said.
    const odd = await writeHestRoot(join(tempDir(), "hest"), [{ id: "X1", from: 0, patches: 256 }]);
    const log = quiet();
    const x = (await loadDataset(odd, { log })).slices[0];
    assert.equal(x.image?.patchFile?.side, 256);
    assert.ok(log.warnings.some((w) => w.message.startsWith("patches are 256 × 256 px")));
    assert.equal((await extractPatches(x, { size: 112 })).n, x.spots.length);
    // A patch file that is not HEST's (grey 3-D img) and one whose barcodes match nothing.
    const bad = join(odd, "patches", "X1.h5");
    python(
      "import h5py, numpy as np, sys\nwith h5py.File(sys.argv[1], 'w') as f:\n f['img'] = np.zeros((4, 224, 224), np.uint8)\n f['barcode'] = np.array([[b'a'], [b'b'], [b'c'], [b'd']])",
      bad,
    );
    await throwsWith(
      () => loadDataset(odd, { log: quiet() }),
      "X1.h5",
      "expected N × side × side × 3 uint8",
    );
    python(
      "import h5py, numpy as np, sys\nwith h5py.File(sys.argv[1], 'w') as f:\n f['img'] = np.zeros((2, 224, 224, 3), np.uint8)\n f['barcode'] = np.array([[b'zz-1'], [b'zz-2']])",
      bad,
    );
    await throwsWith(() => loadDataset(odd, { log: quiet() }), "X1.h5", "do not match obs_names");
  },
});

Deno.test({
  name: "HEST root through the CLI: data info, hvg and train (ridge, patient split)",
  ignore,
  async fn() {
    const root = await hestRoot();
    const sel = `${root}?organ=Lymph node&disease_state!=Healthy`;
    const info = cliJson("data", "info", sel, "--json");
    assert.deepEqual(info.slices.map((s: { name: string }) => s.name), ["LN1", "LN2", "LN3"]);
    const hvg = cliJson("hvg", sel, "--n-top", "40", "--json");
    assert.equal(hvg.params.flavor, "seurat_v3");
    const run = cliJson(
      "train",
      sel,
      "--method",
      "ridge",
      "--split",
      "patient",
      "--n-top",
      "40",
      "--json",
    );
    assert.equal(run.split, "patient");
    assert.deepEqual(run.folds.map((f: { test: string }) => f.test).sort(), ["LN1", "LN2", "LN3"]);
    assert.ok(run.folds.every((f: { pcc: number }) => Number.isFinite(f.pcc)));
    const r = cli("data", "info", `${root}?organ=Liver`);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /no HEST sample matches organ=Liver/);
    assert.doesNotMatch(r.stderr, / {4}at /); // no stack trace
  },
});

Deno.test({
  name: "HEST-Benchmark task: splits become folds, its genes the gene set, both readings reported",
  ignore,
  async fn() {
    const root = await writeHestRoot(join(tempDir(), "hest"), [
      { id: "A", from: 0 },
      { id: "B", from: 1 },
      { id: "C", from: 2 },
      { id: "D", from: 3 },
    ]);
    const genes = fixtureSlices()[0].genes.slice(0, 12);
    const task = writeHestBenchTask(join(tempDir(), "IDC"), root, ["A", "B", "C", "D"], [
      ["A", "B"],
      ["C", "D"],
    ], genes);
    const ds = await loadDataset(task, { log: quiet() });
    assert.deepEqual(ds.folds, [
      { name: "split0", train: ["C", "D"], test: ["A", "B"] },
      { name: "split1", train: ["A", "B"], test: ["C", "D"] },
    ]);
    assert.deepEqual(ds.genes, genes);
    assert.equal(ds.slices.find((s) => s.name === "A")!.patient, "split0");
    assert.equal(defaultSplit(task), "dataset");
    assert.deepEqual(defaultGeneParams(task).genes, genes);

    const out = join(tempDir(), "hb");
    const r = cliJson("hest-bench", task, "--methods", "ridge", "--out", out, "--json");
    assert.deepEqual(r.rows.map((x: { method: string }) => x.method), [
      "hest-probe (builtin), HEST target",
      "hest-probe (builtin)",
      "ridge",
    ]);
    // Ranks compare rows on one target; the HEST-target probe row stands apart.
    assert.equal(r.rows[0].hestRank, null);
    assert.deepEqual(r.rows.slice(1).map((x: { perSliceRank: number }) => x.perSliceRank).sort(), [
      1,
      2,
    ]);
    // The per-slice reading of ridge is the mean of the run's own per-slice PCCs.
    const train = cliJson("evaluate", join(out, "ridge"), "--json");
    const perSlice = train.slices.map((s: { pcc: number }) => s.pcc);
    const ridge = r.rows[2];
    assert.ok(
      Math.abs(
        ridge.perSlicePcc - perSlice.reduce((a: number, b: number) => a + b) / perSlice.length,
      ) < 1e-9,
    );
    assert.equal(r.splits.ridge.length, 2);
    assert.ok(Deno.statSync(join(out, "hest_bench.manifest.json")).isFile);
    await throwsWith(() => loadDataset(`${task}?id=A`, { log: quiet() }), "used whole");
    // Embeddings as HEST-Benchmark's embed_tiles writes them (<sample>.h5: embeddings, barcodes),
    // rows in another order than the spots: matched by barcode.
    const emb = join(tempDir(), "emb");
    Deno.mkdirSync(emb);
    python(
      `import sys, h5py, numpy as np
task, out = sys.argv[1], sys.argv[2]
rng = np.random.default_rng(0)
for s in "ABCD":
    with h5py.File(f"{task}/patches/{s}.h5") as p:
        bc = p["barcode"][:].flatten()[::-1]
    with h5py.File(f"{out}/{s}.h5", "w") as f:
        f["embeddings"] = rng.normal(size=(len(bc), 8)).astype(np.float32)
        f["barcodes"] = bc.reshape(-1, 1)`,
      task,
      emb,
    );
    const fe = cliJson(
      "hest-bench",
      task,
      "--encoder",
      `file:${emb}`,
      "--out",
      join(tempDir(), "hb2"),
      "--json",
    );
    assert.equal(fe.rows.length, 2);
    const raw = await readEmbeddingFile(join(emb, "A.h5"));
    assert.equal(raw.dim, 8);
    assert.equal(raw.ids[0], ds.slices.find((s) => s.name === "A")!.spots.at(-1));
    await throwsWith(
      () => readEmbeddingFile(join(task, "patches", "A.h5")),
      "a HEST patch file (images), not embeddings",
    );
    // A sweep over the task takes its splits as the folds.
    const specPath = join(tempDir(), "s.json");
    Deno.writeTextFileSync(
      specPath,
      JSON.stringify({ name: "hb", dataset: task, methods: ["ridge"], grid: {} }),
    );
    const sweep = await expandSpec(specPath);
    assert.deepEqual(sweep.runs.map((x) => x.fold), ["split0", "split1"]);
  },
});

Deno.test("HEST readings: pooled r rewards between-slice offsets, per-slice r does not", () => {
  // Two slices, one gene; within each the prediction is perfectly correlated with the truth,
  // but slice B is predicted 10 units too high: per-slice r = 1, pooled r < 1.
  const a = { name: "A", n: 3, pred: [1, 2, 3], truth: [1, 2, 3] };
  const b = { name: "B", n: 3, pred: [14, 15, 16], truth: [4, 5, 6] };
  const r = readSplit({ split: "s", samples: [a, b] }, 1);
  assert.deepEqual(r.perSlice.map((p) => p.pcc), [1, 1]);
  // Pooled: pred = [1,2,3,14,15,16], truth = [1..6]; r computed by hand.
  const p = [1, 2, 3, 14, 15, 16], t = [1, 2, 3, 4, 5, 6];
  const m = (v: number[]) => v.reduce((x, y) => x + y) / v.length;
  const cov = p.reduce((s, v, i) => s + (v - m(p)) * (t[i] - m(t)), 0);
  const rr = cov /
    Math.sqrt(
      p.reduce((s, v) => s + (v - m(p)) ** 2, 0) * t.reduce((s, v) => s + (v - m(t)) ** 2, 0),
    );
  assert.ok(Math.abs(r.pooled - rr) < 1e-12);
  assert.ok(r.pooled < 0.95);
  const sum = summariseReadings([r, { ...r, pooled: 0.5 }]);
  assert.ok(Math.abs(sum.hest.sd - Math.abs(r.pooled - 0.5) / 2) < 1e-12); // ddof 0
});

Deno.test({
  name: "HEST probe matches sklearn's StandardScaler → PCA → Ridge(fit_intercept=False)",
  ignore,
  fn() {
    // Well-conditioned data (n ≫ components) so sklearn's lsqr converges to the exact solution.
    const n = 300, d = 24, G = 5, k = 8;
    let seed = 11;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) - 0.5;
    const mk = (name: string, m: number): ProbeSample => {
      const x = Float32Array.from({ length: m * d }, rnd);
      const y = new Float32Array(m * G);
      for (let i = 0; i < m; i++) {
        for (let g = 0; g < G; g++) {
          y[i * G + g] = 2 + x[i * d + g] * 3 + x[i * d + g + 5] + 0.3 * rnd();
        }
      }
      return { name, n: m, x, dim: d, y };
    };
    const samples = new Map([["tr", mk("tr", n)], ["te", mk("te", 80)]]);
    const fit = hestProbe(samples, { name: "s", train: ["tr"], test: ["te"] }, G, k);
    const ours = readSplit(fit.predictions, G).pooledPerGene;
    const dir = tempDir();
    for (const s of samples.values()) {
      Deno.writeFileSync(join(dir, `${s.name}_x.f32`), new Uint8Array(s.x.buffer));
      Deno.writeFileSync(join(dir, `${s.name}_y.f32`), new Uint8Array(s.y.buffer));
    }
    const ref = JSON.parse(python(
      `import sys, json, numpy as np
from sklearn.preprocessing import StandardScaler
from sklearn.decomposition import PCA
from sklearn.pipeline import Pipeline
from sklearn.linear_model import Ridge
from scipy.stats import pearsonr
d, G, k = ${d}, ${G}, ${k}
L = lambda n: (np.fromfile(f"{sys.argv[1]}/{n}_x.f32", np.float32).reshape(-1, d), np.fromfile(f"{sys.argv[1]}/{n}_y.f32", np.float32).reshape(-1, G))
X, Y = L("tr"); Xt, Yt = L("te")
pipe = Pipeline([("s", StandardScaler()), ("p", PCA(n_components=k, random_state=0))])
Z, Zt = pipe.fit_transform(X), pipe.transform(Xt)
r = Ridge(solver="lsqr", alpha=100 / (Z.shape[1] * G), fit_intercept=False, max_iter=1000, random_state=0).fit(Z, Y)
P = r.predict(Zt)
print(json.dumps([pearsonr(Yt[:, g], P[:, g])[0] for g in range(G)]))`,
      dir,
    ));
    assert.equal(fit.components, k);
    assert.ok(Math.abs(fit.alpha - 100 / (k * G)) < 1e-15);
    ref.forEach((r: number, g: number) =>
      assert.ok(Math.abs(ours[g] - r) < 1e-4, `gene ${g}: ${ours[g]} vs ${r}`)
    );
    // The targets HEST scores: log1p of raw counts.
    const s = fixtureSlices()[0];
    const t = hestTargets(s, [s.genes[0]]);
    const col0 = s.counts.toDense().filter((_, i) => i % s.genes.length === 0);
    assert.ok(Array.from(t).every((v, i) => Math.abs(v - Math.log1p(col0[i])) < 1e-6));
  },
});

Deno.test({
  name:
    "an ablation notebook runs on a HEST cohort by parameter, its test slices replaced and said",
  ignore,
  async fn() {
    const root = await hestRoot();
    const figures = tempDir();
    const r = await runNotebook(join(PROJECT_ROOT, "notebooks", "table2_graph_ablation.ipynb"), {
      engine: "deno",
      outputDir: join(figures, "executed"),
      env: {
        SPAHGC_FIGURES_DIR: figures,
        SPAHGC_PROFILE: "quick",
        SPAHGC_PARAMS: JSON.stringify({
          dataset: `${root}?organ=Lymph node&disease_state!=Healthy`,
        }),
      },
    });
    assert.deepEqual(r.failures, [], JSON.stringify(r.failures));
    const manifest = JSON.parse(
      Deno.readTextFileSync(join(figures, "table2_graph_ablation", "manifest.json")),
    );
    assert.equal(manifest.dataset.location, root);
    assert.deepEqual(manifest.dataset.slices, ["LN1", "LN2", "LN3"]);
    assert.ok(
      manifest.notes.some((n: string) => n.includes("are not in hest: LN1, LN2 instead")),
      JSON.stringify(manifest.notes),
    );
  },
});
