/**
 * AnnData → slices, in the layouts scanpy and squidpy users have: one file per slice or one
 * concatenated file split by an `obs` column (what `anndata.concat` gives); counts in `X`,
 * `layers['counts']` or `raw`; `obsm['spatial']` in full-resolution pixels with the image in
 * `uns['spatial'][library_id]['images']` (hires, else lowres) and its `scalefactors`, or the
 * flat `uns['image_path']` this project writes; the patient from a named `obs` column.
 *
 * What cannot be right is an error naming file, spot and gene (non-integer or negative counts,
 * duplicated spot ids, an image that does not cover the spots, coordinates that look like array
 * indices); what is chosen by default is said.
 */
import { CsrMatrix } from "../data/sparse.ts";
import { DataError, type WarningLog } from "../errors.ts";
import type { Slice, SliceImage } from "../data/slice.ts";
import type { AnnData, Column, Dense2D } from "./h5ad.ts";

export interface AnnDataReadOptions {
  /** `obs` column naming each spot's slice in a concatenated file. */
  sliceKey?: string;
  /** `obs` column naming each spot's patient (default `patient`, else `uns['patient']`). */
  patientKey?: string;
  /** Where the counts are: `X`, `raw`, or a layer name (default: X if it holds counts, else `layers['counts']`, else `raw`). */
  countsLayer?: string;
  /** `uns['spatial']` library of a single-slice file, when it holds several. */
  libraryId?: string;
  /**
   * The values (X, or where `countsLayer` says) are log-normalised already — ln(1 + x) of
   * library-size-normalised counts, as `sc.pp.normalize_total` + `sc.pp.log1p` leave them — and
   * are used as they are: the pipeline skips its own normalisation.
   */
  normalised?: boolean;
  log?: WarningLog;
}

const categories = (c: Column | undefined): (string | null)[] | undefined => {
  if (!c) return undefined;
  if (Array.isArray(c)) return c;
  if ("categorical" in c) return c.categorical;
  return Array.from(c, (v) => String(v));
};

const toCsr = (m: CsrMatrix | Dense2D) =>
  m instanceof CsrMatrix ? m : CsrMatrix.fromDense(m.nRows, m.nCols, m.data);

/** The first entry that is not a count (non-integer or negative), or undefined. */
function firstNonCount(m: CsrMatrix): { row: number; col: number; value: number } | undefined {
  for (let r = 0; r < m.nRows; r++) {
    for (let k = m.indptr[r]; k < m.indptr[r + 1]; k++) {
      const v = m.data[k];
      if (!(v >= 0) || v !== Math.round(v)) return { row: r, col: m.indices[k], value: v };
    }
  }
  return undefined;
}

/** Counts and their gene names, from where the options (or the file's layout) say. */
function countsOf(ad: AnnData, file: string, o: AnnDataReadOptions) {
  const sources: Record<string, () => { m: CsrMatrix; genes: string[] } | undefined> = {
    X: () => ({ m: toCsr(ad.X), genes: ad.varNames }),
    raw: () => (ad.raw ? { m: toCsr(ad.raw.X), genes: ad.raw.varNames } : undefined),
  };
  const layer = (k: string) => {
    const m = ad.sparseLayers?.[k] ?? ad.layers?.[k];
    return m ? { m: toCsr(m), genes: ad.varNames } : undefined;
  };
  const have = [
    "X",
    ...(ad.raw ? ["raw"] : []),
    ...Object.keys(ad.sparseLayers ?? {}),
    ...Object.keys(ad.layers ?? {}),
  ];
  const where = o.countsLayer;
  if (o.normalised) {
    const at = where ?? "X";
    const got = (sources[at] ?? (() => layer(at)))();
    if (!got) {
      throw new DataError(`no values at '${at}' (the file has: ${have.join(", ")})`, { file });
    }
    const neg = got.m.data.findIndex((v) => !(v >= 0));
    if (neg >= 0) {
      throw new DataError(
        `'${at}' holds ${got.m.data[neg]}: log-normalised values are non-negative`,
        { file },
      );
    }
    o.log?.warn(
      `'${at}' declared log-normalised: used as the targets as it is, the pipeline's own normalisation (library size, ln(1 + x)) is skipped`,
      { file },
    );
    return { ...got, from: at };
  }
  if (where !== undefined) {
    const got = (sources[where] ?? (() => layer(where)))();
    if (!got) {
      throw new DataError(`no counts at '${where}' (the file has: ${have.join(", ")})`, { file });
    }
    const bad = firstNonCount(got.m);
    if (bad) {
      throw new DataError(
        `'${where}' holds ${bad.value}, not a count: expected non-negative integers`,
        { file, spot: ad.obsNames[bad.row], gene: got.genes[bad.col] },
      );
    }
    return { ...got, from: where };
  }
  const x = sources.X()!;
  const badX = firstNonCount(x.m);
  if (!badX) return { ...x, from: "X" };
  for (
    const [name, get] of [["layers['counts']", () => layer("counts")], [
      "raw",
      sources.raw,
    ]] as const
  ) {
    const got = get();
    if (got && !firstNonCount(got.m)) {
      o.log?.warn(
        `X is not counts (${badX.value} at spot ${
          ad.obsNames[badX.row]
        }): counts taken from ${name}`,
        { file },
      );
      return { ...got, from: name };
    }
  }
  throw new DataError(
    `X holds ${badX.value}, not a count, and no layers['counts'] or raw with counts exists: the ` +
      `pipeline normalises counts itself. Keep the counts (adata.layers['counts'] = adata.X.copy() ` +
      `before sc.pp.normalize_total), name where they are with --counts-layer (the file has: ${
        have.join(", ")
      }), or declare the values log-normalised with --normalised`,
    { file, spot: ad.obsNames[badX.row], gene: x.genes[badX.col] },
  );
}

/** The image of a library of `uns['spatial']`: hires, else lowres, with its scale factor. */
function spatialImage(ad: AnnData, lib: string | undefined, file: string): SliceImage | undefined {
  const libs = Object.keys(ad.spatial ?? {});
  if (!libs.length) return undefined;
  const id = lib ?? (libs.length === 1 ? libs[0] : undefined);
  if (id === undefined) {
    throw new DataError(
      `uns['spatial'] holds ${libs.length} libraries (${
        libs.join(", ")
      }): name one with --library-id, or split by --slice-key`,
      { file },
    );
  }
  const l = ad.spatial![id];
  if (!l) return undefined;
  for (const [res, key] of [["hires", "tissue_hires_scalef"], ["lowres", "tissue_lowres_scalef"]]) {
    const img = l.images[res];
    if (!img) continue;
    const scale = l.scalefactors[key];
    if (!(scale > 0)) {
      throw new DataError(
        `uns['spatial']['${id}'] has a ${res} image but no scalefactors['${key}']: obsm['spatial'] (full-resolution pixels) cannot be placed on it`,
        { file },
      );
    }
    return { pixels: img, scale };
  }
  return undefined;
}

/** Errors when most spots fall outside the image, or the coordinates look like array indices. */
function checkCoordinates(s: Slice, file: string): void {
  const img = s.image?.pixels;
  if (!img || !s.image) return;
  const n = s.spots.length;
  let outside = 0, first = -1, integral = true, max = 0;
  for (let i = 0; i < n; i++) {
    const x = s.pixel.x[i] * s.image.scale, y = s.pixel.y[i] * s.image.scale;
    if (!(x >= 0 && y >= 0 && x < img.width && y < img.height)) {
      outside++;
      if (first < 0) first = i;
    }
    if (s.pixel.x[i] !== Math.round(s.pixel.x[i]) || s.pixel.y[i] !== Math.round(s.pixel.y[i])) {
      integral = false;
    }
    max = Math.max(max, s.pixel.x[i], s.pixel.y[i]);
  }
  const fullSide = Math.max(img.width, img.height) / s.image.scale;
  if (integral && max <= 256 && fullSide > 4 * max) {
    throw new DataError(
      `obsm['spatial'] looks like array indices (integers up to ${max}) for an image of ${
        Math.round(fullSide)
      } full-resolution pixels: expected pixel coordinates (scanpy's obsm['spatial'])`,
      { file, spot: s.spots[0] },
    );
  }
  if (outside > 0.1 * n) {
    throw new DataError(
      `${outside} of ${n} spots fall outside the ${img.width} × ${img.height} image (at scale ${s.image.scale}; first: pixel ${
        s.pixel.x[first]
      }, ${
        s.pixel.y[first]
      }): the image does not cover the spots — wrong library, scale factor or coordinate frame?`,
      { file, spot: s.spots[first] },
    );
  }
}

function buildSlice(
  ad: AnnData,
  file: string,
  rows: number[] | undefined,
  name: string,
  o: AnnDataReadOptions,
  counts: { m: CsrMatrix; genes: string[] },
  image: SliceImage | undefined,
): Slice {
  const idx = rows ?? Array.from({ length: ad.obsNames.length }, (_, i) => i);
  const spots = idx.map((i) => ad.obsNames[i]);
  const seen = new Map<string, number>();
  spots.forEach((s, k) => {
    if (seen.has(s)) {
      throw new DataError(
        `spot id appears twice in slice ${name} (rows ${seen.get(s)! + 1} and ${
          k + 1
        }): embeddings and predictions are matched by spot id, so ids must be unique (adata.obs_names_make_unique())`,
        { file, spot: s },
      );
    }
    seen.set(s, k);
  });
  const num = (k: string): Float64Array | undefined => {
    const c = ad.obs[k];
    return c && !Array.isArray(c) && !("categorical" in c)
      ? Float64Array.from(idx, (i) => c[i])
      : undefined;
  };
  const sp = ad.obsm.spatial;
  if (!sp) {
    throw new DataError("no obsm['spatial'], expected spot pixel coordinates (n × 2)", { file });
  }
  const pixel = {
    x: Float64Array.from(idx, (i) => sp.data[i * sp.nCols]),
    y: Float64Array.from(idx, (i) => sp.data[i * sp.nCols + 1]),
  };
  const array = {
    x: num("array_x") ?? num("array_col") ?? pixel.x.slice(),
    y: num("array_y") ?? num("array_row") ?? pixel.y.slice(),
  };
  const labels: Record<string, (string | null)[]> = {};
  for (const [k, c] of Object.entries(ad.obs)) {
    if (k.startsWith("label_") && !Array.isArray(c) && "categorical" in c) {
      labels[k.slice(6)] = idx.map((i) => c.categorical[i]);
    }
  }
  const patientKey = o.patientKey ?? "patient";
  const patientCol = categories(ad.obs[patientKey]);
  if (o.patientKey && !patientCol) {
    throw new DataError(
      `no obs column '${o.patientKey}' for --patient-key (obs has: ${
        Object.keys(ad.obs).join(", ") || "none"
      })`,
      { file },
    );
  }
  const patients = patientCol ? [...new Set(idx.map((i) => patientCol[i] ?? "unknown"))] : [];
  if (patients.length > 1) {
    throw new DataError(
      `slice ${name} has spots of ${patients.length} patients in obs['${patientKey}'] (${
        patients.slice(0, 4).join(", ")
      }): a slice belongs to one patient`,
      { file },
    );
  }
  const patient = patients[0] ?? (typeof ad.uns.patient === "string" ? ad.uns.patient : "unknown");
  const slice: Slice = {
    name,
    patient,
    counts: rows ? counts.m.selectRows(Int32Array.from(idx)) : counts.m,
    genes: counts.genes,
    spots,
    array,
    pixel,
    image: image ??
      (typeof ad.uns.image_path === "string"
        ? {
          path: ad.uns.image_path,
          scale: typeof ad.uns.image_scale === "number" ? ad.uns.image_scale : 1,
        }
        : undefined),
    labels,
    ...(o.normalised ? { normalised: true } : {}),
  };
  checkCoordinates(slice, file);
  return slice;
}

/**
 * The slices of one AnnData object: one, or one per value of `obs[sliceKey]`.
 *
 * @example
 * ```ts
 * const slices = annDataSlices(await readH5ad("cohort.h5ad"), "cohort.h5ad", { sliceKey: "library_id" });
 * ```
 */
export function annDataSlices(ad: AnnData, file: string, o: AnnDataReadOptions = {}): Slice[] {
  const counts = countsOf(ad, file, o);
  if (o.sliceKey === undefined) {
    const name = typeof ad.uns.slice_name === "string"
      ? ad.uns.slice_name
      : file.replace(/^.*\//, "").replace(/\.h5ad$/, "");
    return [buildSlice(ad, file, undefined, name, o, counts, spatialImage(ad, o.libraryId, file))];
  }
  const key = categories(ad.obs[o.sliceKey]);
  if (!key) {
    throw new DataError(
      `no obs column '${o.sliceKey}' for --slice-key (obs has: ${
        Object.keys(ad.obs).join(", ") || "none"
      })`,
      { file },
    );
  }
  const groups = new Map<string, number[]>();
  key.forEach((v, i) => {
    if (v === null) {
      throw new DataError(
        `obs['${o.sliceKey}'] is missing for spot ${ad.obsNames[i]}: every spot needs its slice`,
        {
          file,
          spot: ad.obsNames[i],
        },
      );
    }
    if (!groups.has(v)) groups.set(v, []);
    groups.get(v)!.push(i);
  });
  const libs = ad.spatial ?? {};
  return [...groups].map(([name, rows]) =>
    buildSlice(
      ad,
      file,
      rows,
      name,
      o,
      counts,
      name in libs ? spatialImage(ad, name, file) : undefined,
    )
  );
}

/**
 * A slice from a single-slice AnnData (the layouts and checks of `annDataSlices`).
 *
 * @example
 * ```ts
 * const slice = annDataToSlice(await readH5ad("B4.h5ad"), "B4.h5ad");
 * ```
 */
export function annDataToSlice(ad: AnnData, file: string, name?: string): Slice {
  const s = annDataSlices(ad, file)[0];
  return name ? { ...s, name } : s;
}
