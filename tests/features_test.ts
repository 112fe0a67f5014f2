/** Patches, encoders (built-in, ONNX, precomputed), the feature cache and embedding checks. */
import assert from "node:assert/strict";
import { join } from "node:path";
import sharp from "sharp";
import { generateSynthetic, type Slice, sliceToAnnData, writeH5ad } from "../lib/mod.ts";
import { extractPatches } from "../lib/features/patches.ts";
import { BUILTIN_DIM, BuiltinEncoderPool, encodeBuiltin } from "../lib/features/builtin.ts";
import {
  assertSameDim,
  builtinExtractor,
  featureCacheKey,
  onnxExtractor,
  precomputedExtractor,
  sliceFeatures,
} from "../lib/features/extractors.ts";
import { readNpy } from "../lib/features/precomputed.ts";
import { embeddingsCsv, exportEmbeddingsCsv, parseColumns } from "../lib/features/export.ts";
import { cli, cliJson, HAVE_ANNDATA, python, tempDir, throwsWith } from "./helpers.ts";

const ds = generateSynthetic({ patients: 2, sectionsPerPatient: 1 });
const s0 = ds.slices[0];

/** A copy of a slice whose image is a file (PNG of the synthetic pixels, optionally transformed). */
async function withImageFile(
  s: Slice,
  transform: (p: ReturnType<typeof sharp>) => ReturnType<typeof sharp>,
  ext = "png",
  scale = 1,
): Promise<Slice> {
  const px = s.image!.pixels!;
  const file = join(tempDir(), `img.${ext}`);
  await transform(sharp(px.data, { raw: { width: px.width, height: px.height, channels: 3 } }))
    .toFile(file);
  return { ...s, image: { path: file, scale, patchAreaPx: s.image!.patchAreaPx } };
}

Deno.test("patches at full resolution are exact crops centred on the spot", async () => {
  const p = await extractPatches(s0, { size: 56, areaPx: 56 });
  assert.equal(p.n, s0.counts.nRows);
  assert.equal(p.data.length, p.n * 56 * 56 * 3);
  const img = s0.image!.pixels!;
  const i = 10;
  const ox = Math.round(s0.pixel.x[i] - 28), oy = Math.round(s0.pixel.y[i] - 28);
  for (const [u, v] of [[0, 0], [27, 31], [55, 55]]) {
    for (let c = 0; c < 3; c++) {
      assert.equal(
        p.data[((i * 56 + v) * 56 + u) * 3 + c],
        img.data[((oy + v) * img.width + ox + u) * 3 + c],
      );
    }
  }
  assert.equal(p.padded, 0);
});

Deno.test("windows past the image edge are padded white and counted; a centre outside the image is an error naming the spot", async () => {
  const edge: Slice = {
    ...s0,
    pixel: { x: s0.pixel.x.map((v, i) => (i === 0 ? 3 : v)), y: s0.pixel.y },
  };
  const p = await extractPatches(edge, { size: 32, areaPx: 32 });
  assert.equal(p.padded, 1);
  assert.equal(p.data[0], 255); // top-left pixel of spot 0's patch lies left of the image
  const out: Slice = {
    ...s0,
    pixel: { x: s0.pixel.x.map((v, i) => (i === 5 ? -40 : v)), y: s0.pixel.y },
  };
  await throwsWith(() => extractPatches(out), `spot ${s0.spots[5]}`, "outside");
});

Deno.test("grayscale, alpha and CMYK images are converted to RGB and the fix-up reported", async () => {
  const gray = await withImageFile(s0, (p) => p.grayscale().toColourspace("b-w"));
  const pg = await extractPatches(gray, { size: 32 });
  assert.ok(pg.fixups.some((f) => /grayscale/.test(f)), pg.fixups.join());
  const i = 3 * (16 * 32 + 16);
  assert.equal(pg.data[i], pg.data[i + 1]); // gray replicated across channels
  const alpha = await withImageFile(s0, (p) => p.ensureAlpha());
  assert.ok((await extractPatches(alpha, { size: 32 })).fixups.some((f) => /alpha/.test(f)));
  const cmyk = await withImageFile(s0, (p) => p.toColourspace("cmyk").jpeg({ quality: 95 }), "jpg");
  const pc = await extractPatches(cmyk, { size: 32 });
  assert.ok(pc.fixups.some((f) => /CMYK/.test(f)), pc.fixups.join());
  const ref = await extractPatches(s0, { size: 32 });
  let diff = 0;
  for (let k = 0; k < ref.data.length; k++) diff += Math.abs(ref.data[k] - pc.data[k]);
  assert.ok(diff / ref.data.length < 12, `CMYK round trip mean abs diff ${diff / ref.data.length}`);
});

Deno.test("an image at another resolution gives the same tissue area (A1-style scale factor)", async () => {
  const px = s0.image!.pixels!;
  const half = await withImageFile(s0, (p) => p.resize({ width: px.width / 2 }), "png", 0.5);
  const full = await extractPatches(s0, { size: 56 });
  const low = await extractPatches(half, { size: 56 });
  assert.equal(low.windowPx, full.windowPx / 2);
  let diff = 0;
  for (let k = 0; k < full.data.length; k++) diff += Math.abs(full.data[k] - low.data[k]);
  assert.ok(diff / full.data.length < 20, `mean abs diff ${diff / full.data.length}`);
});

Deno.test("built-in encoder: 276 finite features, deterministic, pool = single thread, separates domains", async () => {
  const p = await extractPatches(s0, { size: 112 });
  const a = encodeBuiltin(p);
  assert.equal(a.length, p.n * BUILTIN_DIM);
  assert.ok(a.every(Number.isFinite));
  const pool = new BuiltinEncoderPool(2);
  try {
    assert.deepEqual(await pool.encode(p), a);
  } finally {
    pool.close();
  }
  // Mean haematoxylin OD (feature 0) is higher under tumour/immune spots than under stroma.
  const mean = (d: string) => {
    const idx = s0.labels.domain.flatMap((v, i) => (v === d ? [i] : []));
    return idx.reduce((acc, i) => acc + a[i * BUILTIN_DIM], 0) / idx.length;
  };
  assert.ok(
    mean("tumour") > mean("stroma") * 1.2 && mean("immune") > mean("stroma") * 1.2,
    `${mean("tumour")} ${mean("immune")} ${mean("stroma")}`,
  );
});

Deno.test("the feature cache hits when nothing changed and misses when slice, encoder or parameters change", async () => {
  const dir = tempDir();
  const ex = builtinExtractor({ workers: 1 });
  try {
    const first = await sliceFeatures(s0, ex, dir);
    const second = await sliceFeatures(s0, ex, dir);
    assert.ok(second.notes.includes("from cache") && !first.notes.includes("from cache"));
    assert.deepEqual(Array.from(second.data), Array.from(first.data));
    const moved = { ...s0, pixel: { x: s0.pixel.x.map((v) => v + 1), y: s0.pixel.y } };
    assert.notEqual(featureCacheKey(moved, ex), featureCacheKey(s0, ex));
    assert.notEqual(
      featureCacheKey(s0, builtinExtractor({ areaPx: 100 })),
      featureCacheKey(s0, ex),
    );
    assert.equal([...Deno.readDirSync(dir)].length, 2);
  } finally {
    ex.close();
  }
});

/** Writes a .safetensors file (header length, JSON header, raw little-endian float32). */
function writeSafetensors(
  path: string,
  data: Float32Array,
  shape: [number, number],
  spots: string[],
) {
  const header = new TextEncoder().encode(JSON.stringify({
    __metadata__: { spots: JSON.stringify(spots) },
    embeddings: { dtype: "F32", shape, data_offsets: [0, data.byteLength] },
  }));
  const out = new Uint8Array(8 + header.length + data.byteLength);
  new DataView(out.buffer).setBigUint64(0, BigInt(header.length), true);
  out.set(header, 8);
  out.set(new Uint8Array(data.buffer), 8 + header.length);
  Deno.writeFileSync(path, out);
}

Deno.test("precomputed embeddings (.safetensors, .csv, .h5ad) are matched to spots by id, in any row order", async () => {
  const dir = tempDir();
  const n = s0.spots.length, d = 5;
  const order = s0.spots.map((_, i) => i).reverse();
  const data = Float32Array.from(
    { length: n * d },
    (_, k) => order[Math.floor(k / d)] * 10 + (k % d),
  );
  const ids = order.map((i) => s0.spots[i]);
  writeSafetensors(join(dir, `${s0.name}.safetensors`), data, [n, d], ids);
  const e = await precomputedExtractor(dir).extract(s0);
  assert.equal(e.dim, d);
  assert.deepEqual(Array.from(e.data.subarray(3 * d, 4 * d)), [30, 31, 32, 33, 34]);
  const csv = join(tempDir(), `${s0.name}.csv`);
  Deno.writeTextFileSync(
    csv,
    [
      "spot,f0,f1",
      ...ids.map((id, r) => `${id},${data[r * d]},${data[r * d + 1]}`),
      "extra_spot,1,2",
    ].join("\n"),
  );
  const c = await precomputedExtractor(csv).extract(s0);
  assert.deepEqual(Array.from(c.data.subarray(2, 4)), [10, 11]);
  assert.match(c.notes.join(), /1 embedding rows for spots not in the slice ignored/);
  const h5 = join(tempDir(), `${s0.name}.h5ad`);
  const ad = sliceToAnnData(s0);
  ad.obsm.X_uni = {
    nRows: n,
    nCols: d,
    data: Float64Array.from({ length: n * d }, (_, k) => Math.floor(k / d) + (k % d) / 10),
  };
  await writeH5ad(h5, ad);
  const h = await precomputedExtractor(h5, { obsmKey: "X_uni" }).extract(s0);
  assert.ok(Math.abs(h.data[2 * d + 1] - 2.1) < 1e-6);
});

Deno.test("exported embeddings read back bit for bit through file:, whole or a column selection", async () => {
  const n = s0.spots.length, d = 4;
  // Values whose shortest decimal form differs from a naive toFixed: tiny, huge, negative, non-terminating.
  const pool = [0.1, -1 / 3, 1e-8, 3.4e38, -0, 12345.678, Math.PI, 2 ** -20];
  const data = Float32Array.from(
    { length: n * d },
    (_, k) => pool[(k * 7 + (k >> 2)) % pool.length],
  );
  const e = { slice: s0.name, n, dim: d, data, notes: [] };
  const dir = tempDir();
  const file = exportEmbeddingsCsv(dir, e, s0.spots);
  assert.equal(file, join(dir, `${s0.name}.csv`));
  const whole = await precomputedExtractor(dir).extract(s0);
  assert.equal(whole.dim, d);
  assert.deepEqual(
    new Uint32Array(whole.data.buffer),
    new Uint32Array(data.buffer),
  );
  const dir2 = tempDir();
  exportEmbeddingsCsv(dir2, e, s0.spots, [3, 1]);
  const text = Deno.readTextFileSync(join(dir2, `${s0.name}.csv`)).split("\n");
  assert.equal(text[0], "spot,f3,f1");
  assert.equal(text.length, n + 2); // header, n rows, final newline
  const part = await precomputedExtractor(dir2).extract(s0);
  assert.equal(part.dim, 2);
  for (let i = 0; i < n; i++) {
    assert.equal(part.data[2 * i], data[i * d + 3]);
    assert.equal(part.data[2 * i + 1], data[i * d + 1]);
  }
  assert.throws(
    () => embeddingsCsv(e, s0.spots.slice(1)),
    new RegExp(`${n} embeddings for ${n - 1} spots of slice ${s0.name}`),
  );
  assert.throws(
    () => embeddingsCsv({ ...e, n: 1, data: data.subarray(0, d) }, ["a,b"]),
    /spot id "a,b" .* cannot be a CSV cell/,
  );
});

Deno.test("column selections: ranges and single dimensions in the order given; mistakes named", () => {
  assert.deepEqual(parseColumns("74-76,1", 80), [74, 75, 76, 1]);
  assert.deepEqual(parseColumns(" 5 ", 6), [5]);
  assert.throws(() => parseColumns("5-3", 10), /range 5-3 runs backwards/);
  assert.throws(() => parseColumns("1,x", 10), /"x" is not a dimension or a range/);
  assert.throws(
    () => parseColumns("0-10", 10),
    /dimension 10 \(in 0-10\) is past the embedding's last, 9/,
  );
  assert.throws(() => parseColumns("1-3,2", 10), /dimension 2 is selected twice/);
});

Deno.test("CLI: features --export writes <slice>.csv per slice that train --encoder file: reads", () => {
  const dir = tempDir();
  const out = cliJson(
    "features",
    "synthetic",
    "--export",
    dir,
    "--columns",
    "74-79",
    "--cache",
    "none",
    "--json",
  );
  const slices = generateSynthetic().slices;
  assert.equal(out.slices.length, slices.length);
  for (const s of slices) {
    const lines = Deno.readTextFileSync(join(dir, `${s.name}.csv`)).trim().split("\n");
    assert.equal(lines[0], "spot,f74,f75,f76,f77,f78,f79");
    assert.equal(lines.length, s.spots.length + 1);
  }
  assert.equal(out.slices[0].exported, join(dir, `${slices[0].name}.csv`));
  // The exported folder is a usable encoder.
  const t = cliJson(
    "train",
    "synthetic",
    "--method",
    "ridge",
    "--encoder",
    `file:${dir}`,
    "--json",
  );
  assert.ok(t.mean.pcc > 0);
  const bad = cli("features", "synthetic", "--columns", "0-3");
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--columns selects what --export writes/);
});

Deno.test("bad embeddings: missing spots, NaN/Inf, differing dimensions, missing ids", async () => {
  const dir = tempDir();
  const n = s0.spots.length;
  writeSafetensors(
    join(dir, `${s0.name}.safetensors`),
    new Float32Array((n - 1) * 2),
    [n - 1, 2],
    s0.spots.slice(1),
  );
  await throwsWith(
    () => precomputedExtractor(dir).extract(s0),
    "1 of",
    "have no embedding",
    `spot ${s0.spots[0]}`,
  );
  const bad = new Float32Array(n * 2);
  bad[7 * 2 + 1] = NaN;
  writeSafetensors(join(dir, `${s0.name}.safetensors`), bad, [n, 2], s0.spots);
  await throwsWith(
    () => sliceFeatures(s0, precomputedExtractor(dir), null),
    "NaN/Inf",
    `spot ${s0.spots[7]}`,
  );
  assert.throws(
    () =>
      assertSameDim([{ slice: "a", n: 1, dim: 3, data: new Float32Array(3), notes: [] }, {
        slice: "b",
        n: 1,
        dim: 4,
        data: new Float32Array(4),
        notes: [],
      }]),
    /a=3, b=4/,
  );
  const npy = join(tempDir(), `${s0.name}.npy`);
  if (HAVE_ANNDATA) {
    python(
      `import numpy as np, sys; np.save(sys.argv[1], np.arange(12, dtype=np.float64).reshape(4, 3))`,
      npy,
    );
    const r = readNpy(npy);
    assert.deepEqual(r.shape, [4, 3]);
    assert.equal(r.data[7], 7);
    await throwsWith(() => precomputedExtractor(npy).extract(s0), ".ids.txt");
  }
});

Deno.test({
  name: "ONNX encoder: a tiny conv model built by the test gives the outputs computed by hand",
  ignore: !HAVE_ANNDATA ||
    !python("import importlib.util as u; print(bool(u.find_spec('onnx')))").includes("True"),
  async fn() {
    const model = join(tempDir(), "tiny.onnx");
    // Conv 3→2 (1×1, fixed weights) then global average pooling then flatten: output = W · mean_rgb(normalised) + b.
    python(
      `
import onnx, sys
from onnx import helper, TensorProto, numpy_helper
import numpy as np
W = np.array([[[[1.0]], [[0.0]], [[0.0]]], [[[0.5]], [[0.5]], [[-1.0]]]], dtype=np.float32)
b = np.array([0.25, -1.0], dtype=np.float32)
g = helper.make_graph([
  helper.make_node("Conv", ["x", "W", "b"], ["c"]),
  helper.make_node("GlobalAveragePool", ["c"], ["p"]),
  helper.make_node("Flatten", ["p"], ["y"])],
  "tiny", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, 32, 32])],
  [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 2])],
  [numpy_helper.from_array(W, "W"), numpy_helper.from_array(b, "b")])
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]); m.ir_version = 8
onnx.save(m, sys.argv[1])`,
      model,
    );
    const mean: [number, number, number] = [0.5, 0.5, 0.5],
      std: [number, number, number] = [0.25, 0.25, 0.25];
    const ex = onnxExtractor(model, { inputSize: 32, mean, std, batchSize: 7, preferCuda: false });
    try {
      const e = await ex.extract(s0);
      assert.equal(e.dim, 2);
      assert.equal(ex.device, "cpu");
      const p = await extractPatches(s0, { size: 32 });
      for (const i of [0, 9, p.n - 1]) {
        const m = [0, 0, 0];
        for (let q = 0; q < 32 * 32; q++) {
          for (let c = 0; c < 3; c++) {
            m[c] += (p.data[i * 3072 + q * 3 + c] / 255 - mean[c]) / std[c] / 1024;
          }
        }
        assert.ok(Math.abs(e.data[i * 2] - (m[0] + 0.25)) < 1e-4);
        assert.ok(Math.abs(e.data[i * 2 + 1] - (0.5 * m[0] + 0.5 * m[1] - m[2] - 1)) < 1e-4);
      }
    } finally {
      await ex.close();
    }
  },
});
