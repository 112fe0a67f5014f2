/**
 * Reader for a 10x Genomics Space Ranger `outs/` folder:
 *
 *   filtered_feature_bc_matrix.h5        genes × barcodes, CSC (read as spots × genes CSR)
 *   spatial/tissue_positions.csv         Space Ranger ≥ 2.0, with a header
 *   spatial/tissue_positions_list.csv    Space Ranger < 2.0, no header
 *     columns: barcode, in_tissue, array_row, array_col, pxl_row_in_fullres, pxl_col_in_fullres
 *   spatial/scalefactors_json.json       tissue_hires_scalef, tissue_lowres_scalef, …
 *   spatial/tissue_hires_image.png / tissue_lowres_image.png
 *
 * Only "Gene Expression" features are kept (as scanpy's `read_visium`); gene symbols are made
 * unique as AnnData does. Pixel coordinates stay in the full-resolution frame; the image
 * carries the scale factor into its own frame.
 */
import { join } from "node:path";
import h5wasm from "h5wasm/node";
import { DataError, WarningLog } from "../errors.ts";
import { CsrMatrix } from "../data/sparse.ts";
import {
  type Dataset,
  type Slice,
  type SliceImage,
  uniqueGeneNames,
  validateSlice,
} from "../data/slice.ts";
import { assertHdf5, column, exists, numberField, parseTable, readBytes } from "./files.ts";
import { h5Ready } from "./h5ad.ts";

type H5Group = InstanceType<typeof h5wasm.Group>;
type H5Dataset = InstanceType<typeof h5wasm.Dataset>;

export interface VisiumOptions {
  /** Slice name (default: the folder's name). */
  name?: string;
  patient?: string;
  log?: WarningLog;
}

function values(g: H5Group, key: string, file: string): unknown {
  const e = g.get(key);
  if (!(e instanceof h5wasm.Dataset)) {
    throw new DataError(`missing dataset 'matrix/${key}'`, { file });
  }
  return (e as H5Dataset).value;
}

/** Reads one Space Ranger `outs/` folder as a Slice. */
export async function readVisium(outs: string, opts: VisiumOptions = {}): Promise<Slice> {
  const log = opts.log ?? new WarningLog();
  const h5path = join(outs, "filtered_feature_bc_matrix.h5");
  if (!exists(h5path)) {
    throw new DataError("count matrix not found (expected Space Ranger outs/)", { file: h5path });
  }
  assertHdf5(h5path);
  await h5Ready();
  let f: InstanceType<typeof h5wasm.File>;
  try {
    f = new h5wasm.File(h5path, "r");
  } catch (e) {
    throw new DataError(`not a readable HDF5 file: ${(e as Error).message}`, { file: h5path });
  }
  let barcodes: string[], names: string[], types: string[], csr: CsrMatrix;
  try {
    const m = f.get("matrix") as H5Group | null;
    if (!m) {
      throw new DataError(
        "no 'matrix' group (expected a Space Ranger ≥ 3 feature-barcode matrix)",
        { file: h5path },
      );
    }
    const shape = Array.from(values(m, "shape", h5path) as Int32Array);
    barcodes = (values(m, "barcodes", h5path) as string[]).map(String);
    const feats = m.get("features") as H5Group | null;
    if (!feats) throw new DataError("no 'matrix/features' group", { file: h5path });
    names = (values(feats, "name", h5path) as string[]).map(String);
    types = feats.keys().includes("feature_type")
      ? (values(feats, "feature_type", h5path) as string[]).map(String)
      : names.map(() => "Gene Expression");
    const data = Float32Array.from(values(m, "data", h5path) as ArrayLike<number>);
    const indices = Int32Array.from(values(m, "indices", h5path) as ArrayLike<number>);
    const indptr = Int32Array.from(
      values(m, "indptr", h5path) as ArrayLike<number | bigint>,
      (v) => Number(v),
    );
    // Stored genes × barcodes in CSC, i.e. barcodes × genes in CSR.
    if (shape[0] !== names.length || shape[1] !== barcodes.length) {
      throw new DataError(
        `shape ${shape} disagrees with ${names.length} features and ${barcodes.length} barcodes`,
        { file: h5path },
      );
    }
    for (let k = 0; k < data.length; k++) {
      if (!(data[k] >= 0)) {
        throw new DataError(`count ${data[k]} at entry ${k}, expected non-negative`, {
          file: h5path,
        });
      }
    }
    csr = new CsrMatrix(barcodes.length, names.length, indptr, indices, data);
  } finally {
    f.close();
  }
  const keep = types.map((t, i) => (t === "Gene Expression" ? i : -1)).filter((i) => i >= 0);
  if (keep.length < names.length) {
    log.warn(`${names.length - keep.length} non-gene-expression features left out`, {
      file: h5path,
    });
    csr = csr.selectCols(keep);
    names = keep.map((i) => names[i]);
  }
  const geneNames = uniqueGeneNames(names, h5path, log);

  // Tissue positions.
  const posNew = join(outs, "spatial", "tissue_positions.csv");
  const posOld = join(outs, "spatial", "tissue_positions_list.csv");
  const posPath = exists(posNew) ? posNew : posOld;
  const text = new TextDecoder().decode(readBytes(posPath, "tissue positions file"));
  const hasHeader = posPath === posNew;
  const t = parseTable(text, posPath, ",", hasHeader);
  if (!hasHeader) {
    t.header = [
      "barcode",
      "in_tissue",
      "array_row",
      "array_col",
      "pxl_row_in_fullres",
      "pxl_col_in_fullres",
    ];
  }
  const [cb, cr, cc, cpr, cpc] = [
    "barcode",
    "array_row",
    "array_col",
    "pxl_row_in_fullres",
    "pxl_col_in_fullres",
  ]
    .map((c) => column(t, c));
  const pos = new Map<string, number>();
  t.rows.forEach((r, i) => {
    if (r.length !== t.header.length) {
      throw new DataError(`has ${r.length} fields, expected ${t.header.length}`, {
        file: posPath,
        line: t.lines[i],
      });
    }
    pos.set(r[cb], i);
  });
  const rows: number[] = [];
  const missing: string[] = [];
  barcodes.forEach((b, i) => (pos.has(b) ? rows.push(i) : missing.push(b)));
  if (rows.length === 0) {
    throw new DataError("no barcode of the count matrix has a tissue position", { file: posPath });
  }
  if (missing.length) {
    log.warn(
      `${missing.length} of ${barcodes.length} barcodes have no tissue position and were left out (e.g. ${
        missing[0]
      })`,
      { file: posPath },
    );
    csr = csr.selectRows(rows);
  }
  const spots = rows.map((i) => barcodes[i]);
  const n = spots.length;
  const array = { x: new Float64Array(n), y: new Float64Array(n) };
  const pixel = { x: new Float64Array(n), y: new Float64Array(n) };
  spots.forEach((b, i) => {
    const r = pos.get(b)!;
    array.x[i] = numberField(t, r, cc);
    array.y[i] = numberField(t, r, cr);
    pixel.x[i] = numberField(t, r, cpc);
    pixel.y[i] = numberField(t, r, cpr);
  });

  // Image and scale factor.
  let image: SliceImage | undefined;
  const sfPath = join(outs, "spatial", "scalefactors_json.json");
  if (exists(sfPath)) {
    let sf: Record<string, number>;
    try {
      sf = JSON.parse(new TextDecoder().decode(readBytes(sfPath)));
    } catch (e) {
      throw new DataError(`not valid JSON: ${(e as Error).message}`, { file: sfPath });
    }
    for (
      const [file, key] of [["tissue_hires_image.png", "tissue_hires_scalef"], [
        "tissue_lowres_image.png",
        "tissue_lowres_scalef",
      ]]
    ) {
      const p = join(outs, "spatial", file);
      if (exists(p)) {
        if (typeof sf[key] !== "number") {
          throw new DataError(`missing number '${key}' for ${file}`, { file: sfPath });
        }
        image = { path: p, scale: sf[key] };
        break;
      }
    }
  }
  const name = opts.name ??
    outs.replace(/\/+$/, "").replace(/^.*\//, "").replace(/^outs$/, "visium");
  const slice: Slice = {
    name,
    patient: opts.patient ?? name,
    counts: csr,
    genes: geneNames,
    spots,
    array,
    pixel,
    image,
    labels: {},
  };
  validateSlice(slice);
  return slice;
}

/** A dataset of several Space Ranger folders (one slice each). */
export async function readVisiumDataset(
  name: string,
  outsDirs: string[],
  log = new WarningLog(),
): Promise<Dataset> {
  const slices: Slice[] = [];
  for (const d of outsDirs) slices.push(await readVisium(d, { log }));
  return {
    name,
    slices,
    provenance: {
      source: "10x Visium Space Ranger outs/",
      location: outsDirs.join(", "),
      reader: "readVisium",
      warnings: log.warnings,
    },
  };
}
