/**
 * Readers for embeddings computed elsewhere (UNI, Virchow, CONCH, …): `.npy` (+ a `.ids.txt`
 * of spot ids, one per line), `.safetensors` (the tensor `embeddings`, or the only tensor; spot
 * ids as a JSON list in the `__metadata__` entry `spots`), CSV (spot id, then one column per
 * dimension; an optional header), Parquet (a spot-id column and one column per dimension, as
 * pandas' `to_parquet` writes) and `.h5ad` (an `obsm` key; obs names are the spot ids).
 *
 * `.npy` and `.safetensors` headers are parsed by hand: both formats are a small documented
 * header in front of raw little-endian values, and no maintained npm package reads them into
 * typed arrays without pulling in a tensor framework.
 */
import { DataError } from "../errors.ts";
import h5wasm from "h5wasm/node";
import { exists, parseTable, readBytes } from "../io/files.ts";
import { h5Strings, openH5 } from "../io/patch_file.ts";
import { Buffer } from "node:buffer";
import { dtypeName, type Frame, pl } from "../table/frame.ts";
import { h5Ready, readH5ad } from "../io/h5ad.ts";

export interface RawEmbeddings {
  ids: string[];
  dim: number;
  data: Float32Array;
}

function toFloat32(bytes: Uint8Array, dtype: string, count: number, file: string): Float32Array {
  const width: Record<string, number> = { "<f2": 2, F16: 2, "<f4": 4, F32: 4, "<f8": 8, F64: 8 };
  if (!width[dtype]) {
    throw new DataError(`unsupported dtype '${dtype}', expected float16/32/64 little-endian`, {
      file,
    });
  }
  if (bytes.length < count * width[dtype]) {
    throw new DataError(`file holds ${bytes.length} data bytes, expected ${count * width[dtype]}`, {
      file,
    });
  }
  const buf = bytes.slice(0, count * width[dtype]).buffer;
  if (dtype === "<f4" || dtype === "F32") return new Float32Array(buf);
  if (dtype === "<f8" || dtype === "F64") return Float32Array.from(new Float64Array(buf));
  if (dtype === "<f2" || dtype === "F16") {
    const u = new Uint16Array(buf);
    return Float32Array.from(u, (h) => {
      const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 0x1f, f = h & 0x3ff;
      return e === 0
        ? s * 2 ** -14 * (f / 1024)
        : e === 31
        ? (f ? NaN : s * Infinity)
        : s * 2 ** (e - 15) * (1 + f / 1024);
    });
  }
  throw new DataError(`unsupported dtype '${dtype}', expected float16/32/64 little-endian`, {
    file,
  });
}

/** Reads a 2-D `.npy` array (C order). */
export function readNpy(path: string): { shape: [number, number]; data: Float32Array } {
  const b = readBytes(path, ".npy file");
  if (b[0] !== 0x93 || new TextDecoder().decode(b.subarray(1, 6)) !== "NUMPY") {
    throw new DataError("not a .npy file (bad magic)", { file: path });
  }
  const major = b[6];
  const hlen = major === 1
    ? b[8] | (b[9] << 8)
    : new DataView(b.buffer, b.byteOffset).getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  const header = new TextDecoder().decode(b.subarray(start, start + hlen));
  const descr = header.match(/'descr':\s*'([^']+)'/)?.[1];
  const fortran = /'fortran_order':\s*True/.test(header);
  const shape = header.match(/'shape':\s*\(([^)]*)\)/)?.[1].split(",").map((s) => s.trim()).filter(
    Boolean,
  ).map(Number);
  if (!descr || !shape) {
    throw new DataError(`unreadable .npy header: ${header.trim()}`, { file: path });
  }
  if (fortran) {
    throw new DataError("Fortran-ordered .npy is not supported; save with np.ascontiguousarray", {
      file: path,
    });
  }
  if (shape.length !== 2) {
    throw new DataError(
      `array has shape (${shape.join(", ")}), expected 2-D (spots × dimensions)`,
      { file: path },
    );
  }
  return {
    shape: [shape[0], shape[1]],
    data: toFloat32(b.subarray(start + hlen), descr, shape[0] * shape[1], path),
  };
}

/** Reads a 2-D tensor and the spot ids from a `.safetensors` file. */
export function readSafetensors(
  path: string,
  tensor?: string,
): { shape: [number, number]; data: Float32Array; ids?: string[] } {
  const b = readBytes(path, ".safetensors file");
  const n = Number(new DataView(b.buffer, b.byteOffset).getBigUint64(0, true));
  let header: Record<
    string,
    { dtype: string; shape: number[]; data_offsets: [number, number] } & Record<string, unknown>
  >;
  try {
    header = JSON.parse(new TextDecoder().decode(b.subarray(8, 8 + n)));
  } catch {
    throw new DataError("not a .safetensors file (header is not JSON)", { file: path });
  }
  const meta = header.__metadata__ as unknown as Record<string, string> | undefined;
  const names = Object.keys(header).filter((k) => k !== "__metadata__");
  const name = tensor ??
    (names.includes("embeddings") ? "embeddings" : names.length === 1 ? names[0] : undefined);
  if (!name || !header[name]) {
    throw new DataError(
      `tensor '${tensor ?? "embeddings"}' not found (tensors: ${names.join(", ")})`,
      { file: path },
    );
  }
  const t = header[name];
  if (t.shape.length !== 2) {
    throw new DataError(`tensor '${name}' has shape [${t.shape}], expected 2-D`, { file: path });
  }
  const body = b.subarray(8 + n + t.data_offsets[0], 8 + n + t.data_offsets[1]);
  const ids = meta?.spots ? JSON.parse(meta.spots) as string[] : undefined;
  return {
    shape: [t.shape[0], t.shape[1]],
    data: toFloat32(body, t.dtype, t.shape[0] * t.shape[1], path),
    ids,
  };
}

function readIds(path: string): string[] {
  return new TextDecoder().decode(readBytes(path, "spot id file")).split(/\r?\n/).map((s) =>
    s.trim()
  ).filter(Boolean);
}

/** Reads one slice's embeddings from a file, whatever its format. */
export async function readEmbeddingFile(
  path: string,
  obsmKey = "X_embedding",
): Promise<RawEmbeddings> {
  if (path.endsWith(".npy")) {
    const { shape, data } = readNpy(path);
    const idPath = path.replace(/\.npy$/, ".ids.txt");
    if (!exists(idPath)) {
      throw new DataError(`no spot id file ${idPath} (one id per line, in row order)`, {
        file: path,
      });
    }
    const ids = readIds(idPath);
    if (ids.length !== shape[0]) {
      throw new DataError(`${ids.length} spot ids for ${shape[0]} rows`, { file: idPath });
    }
    return { ids, dim: shape[1], data };
  }
  if (path.endsWith(".safetensors")) {
    const { shape, data, ids } = readSafetensors(path);
    const idList = ids ??
      (exists(path.replace(/\.safetensors$/, ".ids.txt"))
        ? readIds(path.replace(/\.safetensors$/, ".ids.txt"))
        : undefined);
    if (!idList) {
      throw new DataError(
        "no spot ids: put a JSON list under __metadata__['spots'] or a .ids.txt beside the file",
        { file: path },
      );
    }
    if (idList.length !== shape[0]) {
      throw new DataError(`${idList.length} spot ids for ${shape[0]} rows`, { file: path });
    }
    return { ids: idList, dim: shape[1], data };
  }
  if (path.endsWith(".csv") || path.endsWith(".tsv")) {
    const sep = path.endsWith(".tsv") ? "\t" : ",";
    const text = new TextDecoder().decode(readBytes(path, "embedding table"));
    const firstLine = text.split(/\r?\n/, 1)[0].split(sep);
    const hasHeader = firstLine.slice(1).some((v) =>
      v.trim() !== "" && !Number.isFinite(Number(v))
    );
    const t = parseTable(text, path, sep, hasHeader);
    const dim = (t.rows[0]?.length ?? 1) - 1;
    const data = new Float32Array(t.rows.length * dim);
    t.rows.forEach((r, i) => {
      if (r.length !== dim + 1) {
        throw new DataError(`has ${r.length - 1} values, expected ${dim}`, {
          file: path,
          line: t.lines[i],
        });
      }
      for (let j = 0; j < dim; j++) {
        const v = r[j + 1].trim() === "" ? NaN : Number(r[j + 1]);
        data[i * dim + j] = v;
      }
    });
    return { ids: t.rows.map((r) => r[0]), dim, data };
  }
  if (path.endsWith(".h5ad")) {
    const ad = await readH5ad(path, { optionalX: true });
    const m = ad.obsm[obsmKey];
    if (!m) {
      throw new DataError(
        `no obsm['${obsmKey}'] (has: ${Object.keys(ad.obsm).join(", ") || "none"})`,
        { file: path },
      );
    }
    return { ids: ad.obsNames, dim: m.nCols, data: Float32Array.from(m.data) };
  }
  if (path.endsWith(".parquet")) return readParquetEmbeddings(path);
  if (path.endsWith(".h5")) return await readHestEmbeddings(path);
  throw new DataError(
    "unknown embedding format, expected .npy (+ .ids.txt), .safetensors, .csv/.tsv, .parquet, .h5ad or .h5 (HEST-Benchmark's embeddings + barcodes)",
    { file: path },
  );
}

/**
 * A Parquet table of embeddings (`df.to_parquet()` of a spots × dimensions frame): the spot ids
 * are its one string column (a named column, or pandas' index), every other column a dimension.
 */
function readParquetEmbeddings(path: string): RawEmbeddings {
  const bytes = readBytes(path, "Parquet table");
  let df: Frame;
  try {
    df = pl.readParquet(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (e) {
    throw new DataError(`not a readable Parquet file: ${(e as Error).message}`, { file: path });
  }
  if (!df.height) throw new DataError("the table has no rows", { file: path });
  const idKeys = df.columns.filter((k) =>
    ["String", "Utf8", "Categorical"].includes(dtypeName(df, k))
  );
  if (idKeys.length !== 1) {
    throw new DataError(
      `expected one string column of spot ids and numeric dimensions, found ${
        idKeys.length ? `string columns ${idKeys.join(", ")}` : "no string column"
      }`,
      { file: path },
    );
  }
  const ids = df.getColumn(idKeys[0]).cast(pl.Utf8).toArray().map(String);
  const dims = df.columns.filter((k) => k !== idKeys[0]);
  const data = new Float32Array(df.height * dims.length);
  dims.forEach((k, j) => {
    const col = df.getColumn(k);
    if (!col.isNumeric() && dtypeName(df, k) !== "Null") {
      throw new DataError(
        `column '${k}' is not numeric (${dtypeName(df, k)}; row 1: ${JSON.stringify(col.get(0))})`,
        { file: path, spot: ids[0] },
      );
    }
    // Nulls become NaN, which the embedding checks downstream report by spot.
    const v = col.cast(pl.Float64).toArray() as (number | null)[];
    for (let i = 0; i < v.length; i++) data[i * dims.length + j] = v[i] ?? NaN;
  });
  return { ids, dim: dims.length, data };
}

/**
 * Embeddings as HEST-Benchmark's `embed_tiles` writes them (`<sample>.h5`: `embeddings` N × D,
 * `barcodes` N or N × 1). A HEST *patch* file (`img`) holds images, not embeddings: said so.
 */
async function readHestEmbeddings(path: string): Promise<RawEmbeddings> {
  await h5Ready();
  const f = openH5(path, "embedding file");
  try {
    const keys = f.keys();
    if (keys.includes("img") && !keys.includes("embeddings")) {
      throw new DataError(
        "a HEST patch file (images), not embeddings: load the HEST root or HEST-Benchmark task itself — the image encoders read its patches",
        { file: path },
      );
    }
    const e = f.get("embeddings"), b = f.get("barcodes") ?? f.get("barcode");
    if (!(e instanceof h5wasm.Dataset) || !(b instanceof h5wasm.Dataset)) {
      throw new DataError(
        `expected datasets 'embeddings' (N × D) and 'barcodes' (has: ${keys.join(", ")})`,
        { file: path },
      );
    }
    const shape = e.shape ?? [];
    if (shape.length !== 2) {
      throw new DataError(`'embeddings' is ${shape.join(" × ")}, expected N × D`, { file: path });
    }
    const ids = h5Strings(b);
    if (ids.length !== shape[0]) {
      throw new DataError(`${ids.length} barcodes for ${shape[0]} embeddings`, { file: path });
    }
    const v = e.value as ArrayLike<number>;
    return { ids, dim: shape[1], data: Float32Array.from(v) };
  } finally {
    f.close();
  }
}
