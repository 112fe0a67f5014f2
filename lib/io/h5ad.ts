/**
 * AnnData `.h5ad` read/write (the on-disk format of anndata ≥ 0.8: groups and datasets tagged
 * with `encoding-type` / `encoding-version` attributes), through h5wasm — HDF5 compiled to
 * WebAssembly, so no native HDF5 is needed.
 *
 * Supported: X dense or CSR (CSC is read and converted); obs/var with names and columns
 * (numeric arrays, string arrays, categoricals with missing values); obsm and layers as dense
 * arrays (e.g. `spatial`; a prediction's `measured` layer); uns flat scalars (strings, numbers).
 * obsp, varp and nested uns are written empty and ignored when read.
 */
import h5wasm from "h5wasm/node";
import { CsrMatrix } from "../data/sparse.ts";
import { DataError } from "../errors.ts";
import type { RgbImage, Slice } from "../data/slice.ts";
import { assertHdf5, exists } from "./files.ts";

type H5Group = InstanceType<typeof h5wasm.Group>;
type H5Dataset = InstanceType<typeof h5wasm.Dataset>;

/** A column of obs/var: numbers, plain strings, or a categorical (null = missing). */
export type Column =
  | Float64Array
  | Float32Array
  | Int32Array
  | string[]
  | { categorical: (string | null)[] };

/** A dense 2-D array, row-major. */
export interface Dense2D {
  nRows: number;
  nCols: number;
  data: Float32Array | Float64Array;
}

/** The parts of an AnnData object this project exchanges. */
export interface AnnData {
  X: CsrMatrix | Dense2D;
  obsNames: string[];
  varNames: string[];
  obs: Record<string, Column>;
  var: Record<string, Column>;
  obsm: Record<string, Dense2D>;
  /** Dense layers with X's shape (e.g. `measured` beside a prediction). */
  layers?: Record<string, Dense2D>;
  /** Sparse layers (e.g. scanpy users' `counts`), read, never written. */
  sparseLayers?: Record<string, CsrMatrix>;
  /** `raw`: the matrix scanpy keeps before normalisation, with its own genes. Read only. */
  raw?: { X: CsrMatrix | Dense2D; varNames: string[] };
  /** scanpy/squidpy's `uns['spatial'][library_id]`: images and scale factors. Read only. */
  spatial?: Record<string, SpatialLibrary>;
  uns: Record<string, string | number>;
}

/** One library of `uns['spatial']`, as scanpy's `read_visium` and squidpy store it. */
export interface SpatialLibrary {
  /** `hires`, `lowres`, … as RGB, whatever dtype they were stored in. */
  images: Record<string, RgbImage>;
  /** `tissue_hires_scalef`, `tissue_lowres_scalef`, `spot_diameter_fullres`, … */
  scalefactors: Record<string, number>;
}

/** Resolves once the HDF5 WebAssembly module is loaded. */
export async function h5Ready(): Promise<void> {
  await h5wasm.ready;
}

function enc(
  obj: { create_attribute: H5Group["create_attribute"] },
  type: string,
  version: string,
) {
  obj.create_attribute("encoding-type", type);
  obj.create_attribute("encoding-version", version);
}

function writeStrings(g: H5Group, name: string, values: string[]): void {
  // h5wasm writes string[] as variable-length UTF-8, which anndata reads as str.
  const ds = g.create_dataset({
    name,
    data: values.length ? values : [""],
    shape: [values.length],
  });
  enc(ds, "string-array", "0.2.0");
}

function writeArray(
  g: H5Group,
  name: string,
  data: Float64Array | Float32Array | Int32Array | Int8Array,
  shape: number[],
) {
  const ds = g.create_dataset({ name, data, shape });
  enc(ds, "array", "0.2.0");
}

function writeColumn(g: H5Group, name: string, col: Column): void {
  if (Array.isArray(col)) return writeStrings(g, name, col);
  if ("categorical" in col) {
    // anndata's categorical group (0.2.0) needs an HDF5 *enum* boolean attribute `ordered`,
    // which h5wasm cannot create; anndata 0.8 rejects any other type there. So categoricals
    // use the dataframe-0.1.0 layout that every anndata ≥ 0.7 reads: integer codes (-1 =
    // missing) with an object reference to the categories stored in `__categories/`.
    const cats = [...new Set(col.categorical.filter((v): v is string => v !== null))].sort();
    const index = new Map(cats.map((c, i) => [c, i]));
    const codes = new Int32Array(col.categorical.length);
    col.categorical.forEach((v, i) => (codes[i] = v === null ? -1 : index.get(v)!));
    const store = (g.get("__categories") as H5Group | null) ?? g.create_group("__categories");
    writeStrings(store, name, cats);
    const ds = g.create_dataset({ name, data: codes, shape: [codes.length] });
    enc(ds, "array", "0.2.0");
    ds.create_attribute("categories", (store.get(name) as H5Dataset).create_reference());
    return;
  }
  writeArray(g, name, col, [col.length]);
}

function writeDataFrame(
  parent: H5Group,
  name: string,
  index: string[],
  cols: Record<string, Column>,
) {
  const g = parent.create_group(name);
  enc(g, "dataframe", "0.1.0");
  g.create_attribute("_index", "_index");
  const names = Object.keys(cols);
  if (names.length) g.create_attribute("column-order", names);
  else g.create_attribute("column-order", new Float64Array(0), [0]);
  writeStrings(g, "_index", index);
  for (const c of names) {
    const len = Array.isArray(cols[c])
      ? (cols[c] as string[]).length
      : "categorical" in cols[c]
      ? (cols[c] as { categorical: unknown[] }).categorical.length
      : (cols[c] as Float64Array).length;
    if (len !== index.length) {
      throw new RangeError(`${name} column '${c}' has ${len} values, expected ${index.length}`);
    }
    writeColumn(g, c, cols[c]);
  }
}

function emptyDict(parent: H5Group, name: string): H5Group {
  const g = parent.create_group(name);
  enc(g, "dict", "0.1.0");
  return g;
}

/** Writes an AnnData object to `path` (overwriting it) via a temporary file renamed into place. */
export async function writeH5ad(path: string, ad: AnnData): Promise<void> {
  await h5Ready();
  const [nObs, nVar] = "indptr" in ad.X ? ad.X.shape : [ad.X.nRows, ad.X.nCols];
  if (ad.obsNames.length !== nObs || ad.varNames.length !== nVar) {
    throw new RangeError(
      `X is ${nObs}×${nVar} but there are ${ad.obsNames.length} obs and ${ad.varNames.length} var names`,
    );
  }
  const tmp = `${path}.tmp-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  const f = new h5wasm.File(tmp, "w");
  try {
    enc(f, "anndata", "0.1.0");
    if ("indptr" in ad.X) {
      const x = f.create_group("X");
      enc(x, "csr_matrix", "0.1.0");
      x.create_attribute("shape", new Int32Array([nObs, nVar]), [2]);
      x.create_dataset({ name: "data", data: ad.X.data, shape: [ad.X.nnz] });
      x.create_dataset({ name: "indices", data: ad.X.indices, shape: [ad.X.nnz] });
      x.create_dataset({ name: "indptr", data: ad.X.indptr, shape: [nObs + 1] });
    } else {
      writeArray(f, "X", ad.X.data, [nObs, nVar]);
    }
    writeDataFrame(f, "obs", ad.obsNames, ad.obs);
    writeDataFrame(f, "var", ad.varNames, ad.var);
    const obsm = emptyDict(f, "obsm");
    for (const [k, m] of Object.entries(ad.obsm)) {
      if (m.nRows !== nObs) {
        throw new RangeError(`obsm['${k}'] has ${m.nRows} rows, expected ${nObs}`);
      }
      writeArray(obsm, k, m.data, [m.nRows, m.nCols]);
    }
    const layers = emptyDict(f, "layers");
    for (const [k, m] of Object.entries(ad.layers ?? {})) {
      if (m.nRows !== nObs || m.nCols !== nVar) {
        throw new RangeError(`layers['${k}'] is ${m.nRows}×${m.nCols}, expected ${nObs}×${nVar}`);
      }
      writeArray(layers, k, m.data, [m.nRows, m.nCols]);
    }
    for (const k of ["varm", "obsp", "varp"]) emptyDict(f, k);
    const uns = emptyDict(f, "uns");
    for (const [k, v] of Object.entries(ad.uns)) {
      if (typeof v === "string") {
        const ds = uns.create_dataset({ name: k, data: v });
        enc(ds, "string", "0.2.0");
      } else {
        const ds = uns.create_dataset({ name: k, data: new Float64Array([v]), shape: [] });
        enc(ds, "numeric-scalar", "0.2.0");
      }
    }
  } finally {
    f.close();
  }
  Deno.renameSync(tmp, path);
}

function attr(
  obj: { attrs: Record<string, unknown>; get_attribute: H5Group["get_attribute"] },
  name: string,
) {
  return name in obj.attrs ? obj.get_attribute(name, true) : undefined;
}

function toNumeric(v: unknown): Float64Array | Float32Array | Int32Array {
  if (v instanceof Float64Array || v instanceof Float32Array || v instanceof Int32Array) return v;
  if (ArrayBuffer.isView(v)) {
    // Other integer widths (int8/16/64, uint) and booleans: widen to float64.
    return Float64Array.from(v as unknown as ArrayLike<number | bigint>, (x) => Number(x));
  }
  if (Array.isArray(v)) return Float64Array.from(v as number[], Number);
  throw new TypeError("not a numeric array");
}

/** A matrix as AnnData stores it: a dense dataset, or a CSR/CSC group. */
function readMatrix(e: unknown, path: string, where: string): CsrMatrix | Dense2D {
  if (!(e instanceof h5wasm.Dataset) && !(e instanceof h5wasm.Group)) {
    throw new DataError(`${where} is neither an array nor a sparse matrix group`, { file: path });
  }
  if (e instanceof h5wasm.Dataset) {
    const shape = e.shape!;
    const v = e.value;
    return {
      nRows: shape[0],
      nCols: shape[1],
      data: v instanceof Float64Array ? v : Float32Array.from(toNumeric(v)),
    };
  }
  const g = e;
  const type = attr(g, "encoding-type");
  const shape = attr(g, "shape") as number[];
  const data = Float32Array.from(toNumeric((g.get("data") as H5Dataset).value));
  const indices = Int32Array.from(toNumeric((g.get("indices") as H5Dataset).value));
  const indptr = Int32Array.from(toNumeric((g.get("indptr") as H5Dataset).value));
  if (type === "csr_matrix") return new CsrMatrix(shape[0], shape[1], indptr, indices, data);
  if (type === "csc_matrix") {
    return new CsrMatrix(shape[1], shape[0], indptr, indices, data).transpose();
  }
  throw new DataError(`${where} has unsupported encoding '${type}'`, { file: path });
}

/** An H × W × (3|4) image array (uint8, or float in [0, 1] as scanpy stores hires) as RGB. */
function toRgb(e: H5Dataset, path: string, where: string): RgbImage {
  const [h, w, c] = e.shape ?? [];
  if (!(h > 0 && w > 0 && (c === 3 || c === 4))) {
    throw new DataError(`${where}: expected an H × W × 3 image, got shape ${e.shape}`, {
      file: path,
    });
  }
  const v = toNumeric(e.value);
  let max = 0;
  for (let k = 0; k < v.length; k += 97) max = Math.max(max, v[k]);
  const unit = !(v instanceof Int32Array) && max <= 1; // floats in [0, 1]
  const data = new Uint8Array(h * w * 3);
  for (let i = 0; i < h * w; i++) {
    for (let ch = 0; ch < 3; ch++) {
      const x = v[i * c + ch];
      data[i * 3 + ch] = Math.max(0, Math.min(255, Math.round(unit ? x * 255 : x)));
    }
  }
  return { width: w, height: h, data };
}

/** `uns['spatial']`: per library id, its images and scale factors. */
function readSpatial(g: H5Group | null, path: string): Record<string, SpatialLibrary> | undefined {
  if (!g || g instanceof h5wasm.Dataset) return undefined;
  const out: Record<string, SpatialLibrary> = {};
  for (const lib of g.keys()) {
    const lg = g.get(lib) as H5Group;
    if (!lg || lg instanceof h5wasm.Dataset) continue;
    const images: Record<string, RgbImage> = {};
    const ig = lg.get("images") as H5Group | null;
    for (const k of ig?.keys() ?? []) {
      const e = ig!.get(k);
      if (e instanceof h5wasm.Dataset) images[k] = toRgb(e, path, `uns/spatial/${lib}/images/${k}`);
    }
    const scalefactors: Record<string, number> = {};
    const sg = lg.get("scalefactors") as H5Group | null;
    for (const k of sg?.keys() ?? []) {
      const e = sg!.get(k);
      if (e instanceof h5wasm.Dataset) {
        const v = e.value;
        const x = typeof v === "number"
          ? v
          : typeof v === "bigint"
          ? Number(v)
          : ArrayBuffer.isView(v)
          ? Number((v as Float64Array)[0])
          : NaN;
        if (Number.isFinite(x)) scalefactors[k] = x;
      }
    }
    out[lib] = { images, scalefactors };
  }
  return Object.keys(out).length ? out : undefined;
}

function readColumn(e: H5Group | H5Dataset, file: string, path: string): Column {
  const type = attr(e, "encoding-type");
  if (type === "categorical") {
    const g = e as H5Group;
    const cats = (g.get("categories") as H5Dataset).value as unknown;
    const catStrings = Array.isArray(cats) ? cats.map(String) : Array.from(toNumeric(cats), String);
    const codes = toNumeric((g.get("codes") as H5Dataset).value);
    return { categorical: Array.from(codes, (c) => (c < 0 ? null : catStrings[c])) };
  }
  if (!(e instanceof h5wasm.Dataset)) {
    throw new DataError(`unsupported column encoding '${type}'`, { file, gene: path });
  }
  if ("categories" in e.attrs) {
    // dataframe 0.1.0: codes + reference to the categories.
    const raw = e.get_attribute("categories", false) as unknown;
    // h5wasm returns a scalar reference attribute as a one-element array.
    const ref = (Array.isArray(raw) ? raw[0] : raw) as Parameters<H5Dataset["dereference"]>[0];
    const cats = (e.dereference(ref) as unknown as H5Dataset).value as unknown[];
    const codes = toNumeric(e.value);
    return { categorical: Array.from(codes, (c) => (c < 0 ? null : String(cats[c]))) };
  }
  const v = e.value;
  if (Array.isArray(v) && (v.length === 0 || typeof v[0] === "string")) return v as string[];
  return toNumeric(v);
}

function readDataFrame(
  f: H5Group,
  name: string,
  file: string,
): { index: string[]; cols: Record<string, Column> } {
  const g = f.get(name) as H5Group | null;
  if (!g) throw new DataError(`missing group '${name}'`, { file });
  const indexKey = String(attr(g, "_index") ?? "_index");
  const index = ((g.get(indexKey) as H5Dataset).value as unknown[]).map(String);
  const order = attr(g, "column-order");
  const names = Array.isArray(order) ? order.map(String) : typeof order === "string" ? [order] : [];
  const cols: Record<string, Column> = {};
  for (const c of names) {
    cols[c] = readColumn(g.get(c) as H5Group | H5Dataset, file, `${name}/${c}`);
  }
  return { index, cols };
}

/** Reads an `.h5ad` file written by anndata ≥ 0.8 (or by `writeH5ad`). */
export async function readH5ad(
  path: string,
  o: { optionalX?: boolean } = {},
): Promise<AnnData> {
  if (!exists(path)) throw new DataError("h5ad file not found", { file: path });
  assertHdf5(path);
  await h5Ready();
  let f: InstanceType<typeof h5wasm.File>;
  try {
    f = new h5wasm.File(path, "r");
  } catch (e) {
    throw new DataError(`not a readable HDF5 file: ${(e as Error).message}`, { file: path });
  }
  try {
    // An AnnData without X (X=None: embeddings in obsm only) is valid where X is not needed.
    const hasX = f.keys().includes("X");
    if (!hasX && !o.optionalX) {
      throw new DataError("no X in file, expected an AnnData .h5ad", { file: path });
    }
    const obs = readDataFrame(f, "obs", path);
    const vars = readDataFrame(f, "var", path);
    const X = hasX
      ? readMatrix(f.get("X")!, path, "X")
      : { nRows: obs.index.length, nCols: 0, data: new Float32Array(0) };
    const denseGroup = (name: string): Record<string, Dense2D> => {
      const out: Record<string, Dense2D> = {};
      const g = f.get(name) as H5Group | null;
      for (const k of g?.keys() ?? []) {
        const e = g!.get(k);
        if (e instanceof h5wasm.Dataset && e.shape?.length === 2) {
          const v = toNumeric(e.value);
          out[k] = {
            nRows: e.shape[0],
            nCols: e.shape[1],
            data: v instanceof Int32Array ? Float64Array.from(v) : v,
          };
        }
      }
      return out;
    };
    const obsm = denseGroup("obsm");
    const layers = denseGroup("layers");
    const sparseLayers: Record<string, CsrMatrix> = {};
    const lg = f.get("layers") as H5Group | null;
    for (const k of lg?.keys() ?? []) {
      const e = lg!.get(k);
      if (e && !(e instanceof h5wasm.Dataset)) {
        const m = readMatrix(e, path, `layers/${k}`);
        if (m instanceof CsrMatrix) sparseLayers[k] = m;
      }
    }
    let raw: AnnData["raw"];
    const rg = f.get("raw") as H5Group | null;
    if (rg && rg.keys().includes("X")) {
      raw = {
        X: readMatrix(rg.get("X")!, path, "raw/X"),
        varNames: readDataFrame(rg, "var", path).index,
      };
    }
    const spatial = readSpatial(f.get("uns/spatial") as H5Group | null, path);
    const uns: Record<string, string | number> = {};
    const ug = f.get("uns") as H5Group | null;
    for (const k of ug?.keys() ?? []) {
      const e = ug!.get(k);
      if (!(e instanceof h5wasm.Dataset) || (e.shape?.length ?? 0) > 0) continue;
      const v = e.value;
      if (typeof v === "string" || typeof v === "number") uns[k] = v;
      else if (typeof v === "bigint") uns[k] = Number(v);
      else if (ArrayBuffer.isView(v)) uns[k] = Number((v as Float64Array)[0]);
    }
    return {
      X,
      obsNames: obs.index,
      varNames: vars.index,
      obs: obs.cols,
      var: vars.cols,
      obsm,
      layers,
      sparseLayers,
      ...(raw ? { raw } : {}),
      ...(spatial ? { spatial } : {}),
      uns,
    };
  } catch (e) {
    // HDF5's own failures (a damaged object header, an unsupported filter) name no file.
    if (e instanceof DataError) throw e;
    throw new DataError(
      `cannot read as AnnData (damaged or unsupported HDF5?): ${(e as Error).message}`,
      {
        file: path,
      },
    );
  } finally {
    f.close();
  }
}

/**
 * A slice as AnnData: X = raw counts (CSR), obs = array/pixel coordinates, patient and labels
 * (categorical), obsm['spatial'] = pixel x, y (scanpy's convention), uns = name and image.
 */
export function sliceToAnnData(s: Slice): AnnData {
  const n = s.counts.nRows;
  const spatial = new Float64Array(n * 2);
  for (let i = 0; i < n; i++) {
    spatial[2 * i] = s.pixel.x[i];
    spatial[2 * i + 1] = s.pixel.y[i];
  }
  const obs: Record<string, Column> = {
    array_x: s.array.x,
    array_y: s.array.y,
    pixel_x: s.pixel.x,
    pixel_y: s.pixel.y,
    patient: { categorical: new Array(n).fill(s.patient) },
  };
  for (const [k, v] of Object.entries(s.labels)) obs[`label_${k}`] = { categorical: v };
  const uns: Record<string, string | number> = { slice_name: s.name, patient: s.patient };
  if (s.image?.path) uns.image_path = s.image.path;
  if (s.image) uns.image_scale = s.image.scale;
  return {
    X: s.counts,
    obsNames: s.spots,
    varNames: s.genes,
    obs,
    var: {},
    obsm: { spatial: { nRows: n, nCols: 2, data: spatial } },
    uns,
  };
}
