/**
 * Feature extractors: everything that turns a slice into one embedding per spot, behind one
 * interface — the built-in descriptor, any ONNX image encoder, or embeddings computed elsewhere
 * — plus the on-disk cache and the checks every embedding passes (shape, finiteness, spot ids).
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import { DataError } from "../errors.ts";
import type { Slice } from "../data/slice.ts";
import { exists, writeFileAtomic } from "../io/files.ts";
import { forEachPatchChunk, type PatchChunk, type PatchSummary } from "./patches.ts";
import { BUILTIN_DIM, BUILTIN_VERSION, BuiltinEncoderPool } from "./builtin.ts";
import { readEmbeddingFile } from "./precomputed.ts";
import { PROJECT_ROOT } from "../paths.ts";
import { fileFingerprint } from "../provenance/identity.ts";

/** One embedding per spot of a slice, row-major n × dim, in the slice's spot order. */
export interface Embeddings {
  slice: string;
  n: number;
  dim: number;
  data: Float32Array;
  /** What happened on the way (padding, colour fix-ups, device, cache hit). */
  notes: string[];
}

export interface FeatureExtractor {
  /** Stable identifier, part of the cache key (e.g. "builtin-v1", "onnx:uni.onnx"). */
  id: string;
  params: Record<string, unknown>;
  extract(slice: Slice): Promise<Embeddings>;
  /** Device actually used (for manifests). */
  device: string;
  close(): Promise<void> | void;
}

/** Checks an embedding: one finite row per spot. NaN/Inf name the first bad spot. */
export function validateEmbeddings(e: Embeddings, slice: Slice, source: string): void {
  if (e.n !== slice.counts.nRows) {
    throw new DataError(
      `${e.n} embeddings for ${slice.counts.nRows} spots of slice ${slice.name}`,
      { file: source },
    );
  }
  if (e.data.length !== e.n * e.dim) {
    throw new DataError(`embedding buffer of ${e.data.length} values, expected ${e.n}×${e.dim}`, {
      file: source,
    });
  }
  let bad = 0, first = -1;
  for (let k = 0; k < e.data.length; k++) {
    if (!Number.isFinite(e.data[k])) {
      bad++;
      if (first < 0) first = k;
    }
  }
  if (bad) {
    const i = Math.floor(first / e.dim);
    throw new DataError(
      `${bad} NaN/Inf value(s) in the embeddings of slice ${slice.name} (first at dimension ${
        first % e.dim
      })`,
      {
        file: source,
        spot: slice.spots[i],
      },
    );
  }
}

/** Checks that every slice's embedding has the same dimension. */
export function assertSameDim(all: Embeddings[]): number {
  const dims = [...new Set(all.map((e) => e.dim))];
  if (dims.length > 1) {
    throw new DataError(
      `embedding dimensions differ across slices: ${
        all.map((e) => `${e.slice}=${e.dim}`).join(", ")
      }`,
    );
  }
  return dims[0];
}

function patchNotes(p: PatchSummary): string[] {
  const notes = [...p.fixups];
  if (p.source === "patch-file") notes.push("patches read from the slice's patch file");
  if (p.source === "bands") notes.push("patches read from the image in bands (large TIFF)");
  if (p.padded) notes.push(`${p.padded} of ${p.n} patches padded white at the image edge`);
  return notes;
}

/** The built-in descriptor (see builtin.ts): 112-px samples of the 224-px tissue square, a worker pool. */
export function builtinExtractor(
  opts: { workers?: number; areaPx?: number } = {},
): FeatureExtractor {
  let pool: BuiltinEncoderPool | undefined;
  const areaPx = opts.areaPx;
  return {
    id: BUILTIN_VERSION,
    params: { inputSize: 112, areaPx: areaPx ?? "image default (224)", dim: BUILTIN_DIM },
    device: "cpu",
    async extract(slice) {
      pool ??= new BuiltinEncoderPool(opts.workers);
      const out = new Float32Array(slice.counts.nRows * BUILTIN_DIM);
      // Chunk by chunk: memory holds one chunk of patches, whatever the number of spots.
      const p = await forEachPatchChunk(slice, { size: 112, areaPx, chunk: 2048 }, async (c) => {
        const e = await pool!.encode({ n: c.spots.length, size: c.size, data: c.data });
        c.spots.forEach((i, k) =>
          out.set(e.subarray(k * BUILTIN_DIM, (k + 1) * BUILTIN_DIM), i * BUILTIN_DIM)
        );
      });
      return { slice: slice.name, n: p.n, dim: BUILTIN_DIM, data: out, notes: patchNotes(p) };
    },
    close() {
      pool?.close();
      pool = undefined;
    },
  };
}

export interface OnnxOptions {
  inputSize?: number;
  /** Per-channel mean and std applied to RGB in [0, 1] (default: ImageNet). */
  mean?: [number, number, number];
  std?: [number, number, number];
  batchSize?: number;
  areaPx?: number;
  /** Try CUDA first (default true); falls back to CPU and says so. */
  preferCuda?: boolean;
}

/** Any image encoder exported to ONNX: input NCHW float32, output (batch × d) or (batch × d × 1 × 1). */
export function onnxExtractor(modelPath: string, opts: OnnxOptions = {}): FeatureExtractor {
  const inputSize = opts.inputSize ?? 224;
  const mean = opts.mean ?? [0.485, 0.456, 0.406];
  const std = opts.std ?? [0.229, 0.224, 0.225];
  const batchSize = opts.batchSize ?? 32;
  let session: ort.InferenceSession | undefined;
  const ex: FeatureExtractor = {
    id: `onnx:${modelPath.replace(/^.*\//, "")}`,
    params: {
      model: modelPath,
      inputSize,
      mean,
      std,
      batchSize,
      areaPx: opts.areaPx ?? "image default (224)",
    },
    device: "cpu",
    async extract(slice) {
      if (!exists(modelPath)) throw new DataError("ONNX model not found", { file: modelPath });
      if (!session) {
        const notes: string[] = [];
        if (opts.preferCuda ?? true) {
          try {
            session = await ort.InferenceSession.create(modelPath, {
              executionProviders: ["cuda"],
            });
            ex.device = "cuda";
          } catch (e) {
            notes.push(
              `CUDA execution provider unavailable (${
                (e as Error).message.split("\n")[0]
              }); using CPU`,
            );
          }
        }
        try {
          session ??= await ort.InferenceSession.create(modelPath, { executionProviders: ["cpu"] });
        } catch (e) {
          throw new DataError(`ONNX model does not load: ${(e as Error).message}`, {
            file: modelPath,
          });
        }
        ex.params.providerNotes = notes;
      }
      const plane = inputSize * inputSize;
      const n = slice.counts.nRows;
      let dim = 0;
      let out = new Float32Array(0);
      const run = async (c: PatchChunk) => {
        for (let b0 = 0; b0 < c.spots.length; b0 += batchSize) {
          const nb = Math.min(batchSize, c.spots.length - b0);
          const x = new Float32Array(nb * 3 * plane);
          for (let i = 0; i < nb; i++) {
            const src = (b0 + i) * plane * 3;
            for (let q = 0; q < plane; q++) {
              for (let ch = 0; ch < 3; ch++) {
                x[i * 3 * plane + ch * plane + q] = (c.data[src + q * 3 + ch] / 255 - mean[ch]) /
                  std[ch];
              }
            }
          }
          const feeds = {
            [session!.inputNames[0]]: new ort.Tensor("float32", x, [nb, 3, inputSize, inputSize]),
          };
          const result = await session!.run(feeds);
          const y = result[session!.outputNames[0]].data as Float32Array;
          const per = y.length / nb;
          if (!dim) {
            dim = per;
            out = new Float32Array(n * dim);
          } else if (per !== dim) {
            throw new DataError(`ONNX output size changed between batches (${dim} → ${per})`, {
              file: modelPath,
            });
          }
          for (let i = 0; i < nb; i++) {
            out.set(y.subarray(i * dim, (i + 1) * dim), c.spots[b0 + i] * dim);
          }
        }
      };
      const p = await forEachPatchChunk(
        slice,
        { size: inputSize, areaPx: opts.areaPx, chunk: Math.max(batchSize, 512) },
        run,
      );
      return {
        slice: slice.name,
        n: p.n,
        dim,
        data: out,
        notes: [...patchNotes(p), `device: ${ex.device}`],
      };
    },
    async close() {
      await session?.release();
      session = undefined;
    },
  };
  return ex;
}

/**
 * Embeddings computed elsewhere. `path` is a file (single-slice datasets) or a folder holding
 * `<slice>.{npy,safetensors,csv,tsv,h5ad}` per slice. Rows are matched to spots by id; spots
 * without an embedding are an error naming them, extra rows are reported and ignored.
 */
export function precomputedExtractor(
  path: string,
  opts: { obsmKey?: string } = {},
): FeatureExtractor {
  return {
    id: `file:${path.replace(/\/+$/, "").replace(/^.*\//, "")}`,
    params: { path, obsmKey: opts.obsmKey ?? "X_embedding" },
    device: "none",
    async extract(slice) {
      let file = path;
      if (exists(path) && Deno.statSync(path).isDirectory) {
        const hit = ["npy", "safetensors", "csv", "tsv", "parquet", "h5ad", "h5"].map((e) =>
          join(path, `${slice.name}.${e}`)
        ).find(exists);
        if (!hit) {
          throw new DataError(
            `no embedding file for slice ${slice.name} (expected ${slice.name}.npy|.safetensors|.csv|.tsv|.parquet|.h5ad|.h5)`,
            { file: path },
          );
        }
        file = hit;
      }
      const raw = await readEmbeddingFile(file, opts.obsmKey);
      const row = new Map(raw.ids.map((id, i) => [id, i]));
      const missing = slice.spots.filter((s) => !row.has(s));
      if (missing.length) {
        throw new DataError(
          `${missing.length} of ${slice.spots.length} spots have no embedding (e.g. ${
            missing.slice(0, 3).join(", ")
          })`,
          {
            file,
            spot: missing[0],
          },
        );
      }
      const data = new Float32Array(slice.spots.length * raw.dim);
      slice.spots.forEach((s, i) =>
        data.set(raw.data.subarray(row.get(s)! * raw.dim, (row.get(s)! + 1) * raw.dim), i * raw.dim)
      );
      const notes = raw.ids.length > slice.spots.length
        ? [
          `${
            raw.ids.length - slice.spots.length
          } embedding rows for spots not in the slice ignored`,
        ]
        : [];
      return { slice: slice.name, n: slice.spots.length, dim: raw.dim, data, notes };
    },
    close() {},
  };
}

/** Parses an encoder spec: `builtin`, `onnx:PATH`, `file:PATH`. */
export function parseEncoder(spec: string, o: { embeddingKey?: string } = {}): FeatureExtractor {
  if (spec.startsWith("file:")) {
    return precomputedExtractor(spec.slice(5), { obsmKey: o.embeddingKey });
  }
  if (o.embeddingKey) {
    throw new DataError(`--embedding-key applies to --encoder file:… (.h5ad obsm), not '${spec}'`);
  }
  if (spec === "builtin") return builtinExtractor();
  if (spec.startsWith("onnx:")) return onnxExtractor(spec.slice(5));
  throw new DataError(`unknown encoder '${spec}', expected builtin, onnx:PATH or file:PATH`);
}

/** Default cache folder: $SPAHGC_CACHE_DIR or .cache/ in the project. */
export function defaultCacheDir(): string {
  return Deno.env.get("SPAHGC_CACHE_DIR") ?? join(PROJECT_ROOT, ".cache", "features");
}

/**
 * Cache key: slice identity (spots, coordinates, the image file's fingerprint), extractor id and
 * params (files among them by fingerprint too).
 */
export function featureCacheKey(slice: Slice, ex: FeatureExtractor): string {
  const h = createHash("sha256");
  h.update(JSON.stringify({ id: ex.id, params: ex.params, slice: slice.name, spots: slice.spots }));
  for (const a of [slice.pixel.x, slice.pixel.y]) {
    h.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  }
  const img = slice.image;
  if (img?.path && exists(img.path)) {
    h.update(`${img.path}:${fileFingerprint(img.path)}`);
  } else if (img?.pixels) {
    h.update(createHash("sha256").update(img.pixels.data).digest("hex"));
  }
  if (img) h.update(`scale ${img.scale} area ${img.patchAreaPx ?? "default"}`);
  if (img?.patchFile) {
    // Patches cut already are the pixels the encoder sees: the file and the spot → row map.
    const pf = img.patchFile;
    h.update(`patches ${pf.path}:${exists(pf.path) ? fileFingerprint(pf.path) : "missing"}`);
    h.update(new Uint8Array(pf.rows.buffer, pf.rows.byteOffset, pf.rows.byteLength));
  }
  for (const p of Object.values(ex.params)) {
    if (typeof p === "string" && exists(p) && Deno.statSync(p).isFile) {
      h.update(`${p}:${fileFingerprint(p)}`);
    }
  }
  return h.digest("hex").slice(0, 16);
}

/**
 * Embeddings of a slice through the on-disk cache: a hit when slice, encoder and parameters are
 * unchanged; otherwise computed, validated and written atomically.
 */
export async function sliceFeatures(
  slice: Slice,
  ex: FeatureExtractor,
  cacheDir: string | null = defaultCacheDir(),
): Promise<Embeddings> {
  const key = featureCacheKey(slice, ex);
  // Precomputed embeddings are read directly: caching a copy would only go stale.
  if (ex.id.startsWith("file:")) cacheDir = null;
  const base = cacheDir
    ? join(cacheDir, `${slice.name}.${ex.id.replace(/[^A-Za-z0-9_.-]/g, "_")}.${key}`)
    : undefined;
  if (base && exists(`${base}.json`) && exists(`${base}.f32`)) {
    const meta = JSON.parse(Deno.readTextFileSync(`${base}.json`));
    const bytes = Deno.readFileSync(`${base}.f32`);
    const data = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
    const e: Embeddings = {
      slice: slice.name,
      n: meta.n,
      dim: meta.dim,
      data,
      notes: [...meta.notes, "from cache"],
    };
    validateEmbeddings(e, slice, `${base}.f32`);
    return e;
  }
  const e = await ex.extract(slice);
  validateEmbeddings(e, slice, ex.id);
  if (base) {
    Deno.mkdirSync(cacheDir!, { recursive: true });
    writeFileAtomic(
      `${base}.f32`,
      new Uint8Array(e.data.buffer, e.data.byteOffset, e.data.byteLength),
    );
    writeFileAtomic(
      `${base}.json`,
      JSON.stringify({
        n: e.n,
        dim: e.dim,
        notes: e.notes,
        extractor: ex.id,
        params: ex.params,
        key,
      }),
    );
  }
  return e;
}
