/**
 * HEST-1k (Jaume et al. 2024) as the `hest` library lays it out after download
 * (`hest.iter_hest` / `read_HESTData` read the same files):
 *
 *   ROOT/st/<id>.h5ad         spots × genes, raw counts; obsm['spatial'] = spot centres in the
 *                             WSI's level-0 pixels
 *   ROOT/metadata/<id>.json   one row of HEST_v1_1_0.csv: patient, organ, disease_state,
 *                             st_technology, pixel_size_um_estimated (what `hest` patches with),
 *                             pixel_size_um_embedded, magnification, …
 *   ROOT/wsis/<id>.tif        the pyramidal H&E whole-slide image (often BigTIFF)
 *   ROOT/patches/<id>.h5      224 × 224 px patches at 0.5 µm/px around each spot, with barcodes
 *
 * A sample becomes a slice named by its id, with the patient from its metadata. Its patches come
 * from `patches/<id>.h5` when present (joined to `obs_names` by barcode; spots HEST cut no patch
 * for are dropped and counted), else from the WSI in regions, each the 112 µm square HEST's
 * patches cover at the sample's own pixel size. Samples are selected by id or by metadata fields,
 * the way the released SpaHGC builds its cohorts from HEST's metadata CSV.
 */
import { join } from "node:path";
import { DataError, type WarningLog } from "../errors.ts";
import type { Dataset, Slice, SliceImage } from "../data/slice.ts";
import { exists } from "./files.ts";
import { readH5ad } from "./h5ad.ts";
import { annDataSlices } from "./anndata_slices.ts";
import { HEST_PATCH_SIDE, HEST_PATCH_UM_PER_PX, readPatchFileInfo } from "./patch_file.ts";

/** The tissue side a HEST patch covers, µm (224 px at 0.5 µm/px). */
export const HEST_PATCH_UM = HEST_PATCH_SIDE * HEST_PATCH_UM_PER_PX;

/** One metadata condition: `field` equal (or not) to one of `values` (case-sensitive, as pandas compares). */
export interface HestFilter {
  field: string;
  op: "=" | "!=";
  values: string[];
}

/** Which samples of a HEST root, and where their patches come from. */
export interface HestSelection {
  /** Only these sample ids. */
  ids?: string[];
  /** Every condition must hold (pandas' `&` of `==` / `!=`). */
  where?: HestFilter[];
  /** `auto` (default): patch files where present, else the WSI; `patches` or `wsi` to insist. */
  source?: "auto" | "patches" | "wsi";
}

/** True when `dir` is laid out as a HEST-1k download (st/ and metadata/). */
export function isHestRoot(dir: string): boolean {
  return exists(join(dir, "st")) && exists(join(dir, "metadata"));
}

/** Sample ids present in `ROOT/st/`, sorted. */
export function hestIds(root: string): string[] {
  return [...Deno.readDirSync(join(root, "st"))]
    .filter((e) => e.isFile && e.name.endsWith(".h5ad"))
    .map((e) => e.name.slice(0, -5))
    .sort();
}

/**
 * A sample's metadata JSON. Python's `json.dump` writes missing values as bare `NaN`, which is
 * not JSON: those become null.
 */
export function readHestMetadata(root: string, id: string): Record<string, unknown> {
  const file = join(root, "metadata", `${id}.json`);
  if (!exists(file)) {
    throw new DataError(
      `no metadata for sample ${id} (expected metadata/${id}.json beside st/${id}.h5ad, as the hest library downloads them)`,
      { file },
    );
  }
  const text = Deno.readTextFileSync(file).replace(
    /(?<=[:\[,]\s*)-?(NaN|Infinity)(?=\s*[,\]}])/g,
    "null",
  );
  try {
    const v = JSON.parse(text);
    if (typeof v !== "object" || v === null || Array.isArray(v)) throw new Error("not an object");
    return v;
  } catch (e) {
    throw new DataError(`metadata is not a JSON object: ${(e as Error).message}`, { file });
  }
}

/**
 * Parses a selection written as a query: `organ=Lymph node&disease_state!=Healthy`,
 * `id=TENX95,TENX99`, `source=wsi`. Values separated by commas mean any of them.
 *
 * @example
 * parseHestQuery("organ=Pancreas&st_technology=Visium,Xenium")
 * // { where: [{ field: "organ", op: "=", values: ["Pancreas"] },
 * //           { field: "st_technology", op: "=", values: ["Visium", "Xenium"] }] }
 */
export function parseHestQuery(query: string): HestSelection {
  const sel: HestSelection = {};
  const where: HestFilter[] = [];
  for (const part of query.split("&").filter((p) => p.trim())) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(!=|=)\s*(.*?)\s*$/.exec(decodeURIComponent(part));
    if (!m) {
      throw new DataError(
        `HEST selection '${part}': expected field=value or field!=value (e.g. organ=Lymph node&disease_state!=Healthy)`,
      );
    }
    const [, field, op, value] = m;
    const values = value.split(",").map((v) => v.trim()).filter((v) => v !== "");
    if (field === "source") {
      if (op !== "=" || values.length !== 1 || !["auto", "patches", "wsi"].includes(values[0])) {
        throw new DataError(`HEST selection '${part}': source is auto, patches or wsi`);
      }
      sel.source = values[0] as HestSelection["source"];
    } else if (field === "id" && op === "=") sel.ids = values;
    else where.push({ field, op: op as "=" | "!=", values });
  }
  if (where.length) sel.where = where;
  return sel;
}

const asText = (v: unknown) => (v === null || v === undefined ? "" : String(v));

/** The ids of `root` the selection keeps, in id order, with their metadata. */
export function selectHestSamples(
  root: string,
  sel: HestSelection,
): { id: string; meta: Record<string, unknown> }[] {
  const have = hestIds(root);
  if (!have.length) {
    throw new DataError("no samples: st/ holds no .h5ad files", { file: join(root, "st") });
  }
  const missing = (sel.ids ?? []).filter((i) => !have.includes(i));
  if (missing.length) {
    throw new DataError(
      `sample(s) ${missing.join(", ")} not in ${root}/st (has: ${have.slice(0, 8).join(", ")}${
        have.length > 8 ? ", …" : ""
      })`,
      { file: root },
    );
  }
  const ids = sel.ids ?? have;
  const all = ids.map((id) => ({ id, meta: readHestMetadata(root, id) }));
  for (const f of sel.where ?? []) {
    if (!all.some(({ meta }) => f.field in meta)) {
      throw new DataError(
        `no sample's metadata has a field '${f.field}' (fields: ${
          Object.keys(all[0].meta).join(", ")
        })`,
        { file: join(root, "metadata") },
      );
    }
  }
  const out = all
    .filter(({ meta }) =>
      (sel.where ?? []).every((f) => {
        // pandas: NaN != 'Healthy' is True and NaN == 'x' is False; a missing field is NaN.
        const v = asText(meta[f.field]);
        const hit = v !== "" && f.values.includes(v);
        return f.op === "=" ? hit : !hit;
      })
    );
  if (!out.length) {
    const fields = sel.where?.map((f) => `${f.field}${f.op}${f.values.join(",")}`).join(" & ");
    throw new DataError(
      `no HEST sample matches ${fields ?? "the selection"} among ${ids.length} (e.g. ${ids[0]}: ${
        (sel.where ?? []).map((f) =>
          `${f.field}=${asText(readHestMetadata(root, ids[0])[f.field]) || "NaN"}`
        )
          .join(", ")
      })`,
      { file: join(root, "metadata") },
    );
  }
  return out;
}

/** µm per level-0 pixel, as `hest` takes it (`pixel_size_um_estimated`, else the embedded one). */
function pixelSize(meta: Record<string, unknown>, id: string, log: WarningLog, file: string) {
  const est = Number(meta.pixel_size_um_estimated), emb = Number(meta.pixel_size_um_embedded);
  if (est > 0) return est;
  if (emb > 0) {
    log.warn(
      `sample ${id}: no pixel_size_um_estimated in its metadata; the embedded pixel size ${emb} µm/px is used`,
      { file },
    );
    return emb;
  }
  return undefined;
}

/** Reads one HEST sample as a slice (see the module comment for what comes from where). */
export async function readHestSample(
  root: string,
  id: string,
  meta: Record<string, unknown>,
  o: { source?: HestSelection["source"]; log: WarningLog },
): Promise<Slice> {
  const stFile = join(root, "st", `${id}.h5ad`);
  const metaFile = join(root, "metadata", `${id}.json`);
  const wsi = join(root, "wsis", `${id}.tif`);
  const patches = join(root, "patches", `${id}.h5`);
  const source = o.source ?? "auto";
  const [slice] = annDataSlices(await readH5ad(stFile), stFile, { log: o.log });
  const patient = asText(meta.patient);
  if (!patient) {
    o.log.warn(`sample ${id}: its metadata names no patient; the sample id stands for it`, {
      file: metaFile,
    });
  }
  const base: Slice = { ...slice, name: id, patient: patient || id, image: undefined };
  const um = pixelSize(meta, id, o.log, metaFile);
  const usePatches = source === "patches" || (source === "auto" && exists(patches));
  if (usePatches) {
    if (!exists(patches)) {
      throw new DataError(`sample ${id}: no patch file (source=patches asks for one)`, {
        file: patches,
      });
    }
    return joinPatchFile(base, patches, exists(wsi) ? wsi : undefined, um, o.log);
  }
  if (!exists(wsi)) {
    if (source === "wsi") {
      throw new DataError(`sample ${id}: no whole-slide image (source=wsi asks for one)`, {
        file: wsi,
      });
    }
    o.log.warn(
      `sample ${id}: neither wsis/${id}.tif nor patches/${id}.h5: the slice has no image, so image encoders cannot embed it (bring embeddings with --encoder file:DIR)`,
      { file: root },
    );
    return base;
  }
  if (um === undefined && source === "auto") {
    o.log.warn(
      `sample ${id}: its metadata has neither pixel_size_um_estimated nor pixel_size_um_embedded, so the ${HEST_PATCH_UM} µm patch square cannot be placed on its WSI: the slice gets no image, and image encoders leave it out (add the pixel size to metadata/${id}.json, or download patches/${id}.h5)`,
      { file: metaFile },
    );
    return base;
  }
  if (um === undefined) {
    throw new DataError(
      `sample ${id}: its metadata has neither pixel_size_um_estimated nor pixel_size_um_embedded, so the ${HEST_PATCH_UM} µm patch square cannot be placed on its WSI (add the pixel size, or download patches/${id}.h5)`,
      { file: metaFile },
    );
  }
  const image: SliceImage = { path: wsi, scale: 1, patchAreaPx: HEST_PATCH_UM / um };
  return { ...base, image };
}

/** The slice restricted to the spots its patch file has, each with its patch row. */
export async function joinPatchFile(
  s: Slice,
  file: string,
  wsi: string | undefined,
  um: number | undefined,
  log: WarningLog,
): Promise<Slice> {
  const info = await readPatchFileInfo(file);
  if (info.side !== HEST_PATCH_SIDE) {
    log.warn(
      `patches are ${info.side} × ${info.side} px, not the ${HEST_PATCH_SIDE} px HEST cuts at 0.5 µm/px (${
        (info.side * HEST_PATCH_UM_PER_PX).toFixed(0)
      } µm at that resolution): used as they are, resampled to each encoder's input size`,
      { file },
    );
  }
  const row = new Map(info.barcodes.map((b, i) => [b, i]));
  const keep: number[] = [];
  const dropped: string[] = [];
  s.spots.forEach((sp, i) => (row.has(sp) ? keep.push(i) : dropped.push(sp)));
  if (!keep.length) {
    throw new DataError(
      `none of the ${s.spots.length} spots of ${s.name} has a patch: the file's barcodes (e.g. ${
        info.barcodes.slice(0, 2).join(", ")
      }) do not match obs_names (e.g. ${s.spots.slice(0, 2).join(", ")})`,
      { file, spot: s.spots[0] },
    );
  }
  if (dropped.length) {
    log.warn(
      `${dropped.length} of ${s.spots.length} spots of ${s.name} have no patch and are dropped (HEST cuts none outside the WSI or the tissue mask; e.g. ${
        dropped.slice(0, 3).join(", ")
      })`,
      { file, spot: dropped[0] },
    );
  }
  const extra = info.barcodes.length - keep.length;
  if (extra > 0) {
    log.warn(`${extra} patches of ${s.name} belong to no spot of st/ and are ignored`, { file });
  }
  const sub = dropped.length ? subsetSpots(s, keep) : s;
  return {
    ...sub,
    image: {
      ...(wsi ? { path: wsi } : {}),
      scale: 1,
      ...(um ? { patchAreaPx: HEST_PATCH_UM / um } : {}),
      patchFile: {
        path: file,
        side: info.side,
        rows: Int32Array.from(sub.spots, (sp) => row.get(sp)!),
      },
    },
  };
}

/** The slice with only the spots at `keep` (in order). */
export function subsetSpots(s: Slice, keep: number[]): Slice {
  const pick = (a: Float64Array) => Float64Array.from(keep, (i) => a[i]);
  return {
    ...s,
    counts: s.counts.selectRows(Int32Array.from(keep)),
    spots: keep.map((i) => s.spots[i]),
    array: { x: pick(s.array.x), y: pick(s.array.y) },
    pixel: { x: pick(s.pixel.x), y: pick(s.pixel.y) },
    labels: Object.fromEntries(
      Object.entries(s.labels).map(([k, v]) => [k, keep.map((i) => v[i])]),
    ),
  };
}

/**
 * Reads the selected samples of a HEST-1k root.
 *
 * @example
 * ```ts
 * const ds = await readHest("/data/hest", {
 *   where: [{ field: "organ", op: "=", values: ["Lymph node"] },
 *           { field: "disease_state", op: "!=", values: ["Healthy"] }],
 *   log: new WarningLog(),
 * });
 * ```
 */
export async function readHest(
  root: string,
  o: HestSelection & { log: WarningLog; name?: string; only?: string[] },
): Promise<Dataset> {
  if (!isHestRoot(root)) {
    throw new DataError(
      "not a HEST-1k folder: expected st/<id>.h5ad and metadata/<id>.json (and wsis/, patches/), as the hest library downloads them",
      { file: root },
    );
  }
  const picked = selectHestSamples(root, o);
  const use = o.only ? picked.filter((p) => o.only!.includes(p.id)) : picked;
  const slices: Slice[] = [];
  for (const { id, meta } of use) {
    slices.push(await readHestSample(root, id, meta, { source: o.source, log: o.log }));
  }
  return {
    name: o.name ?? root.replace(/\/+$/, "").replace(/^.*\//, ""),
    slices,
    provenance: {
      source: "HEST-1k (Jaume et al. 2024), hest library layout",
      location: root,
      reader: "readHest",
      params: {
        ids: picked.map((p) => p.id),
        ...(o.where ? { where: o.where } : {}),
        source: o.source ?? "auto",
        patients: Object.fromEntries(slices.map((s) => [s.name, s.patient])),
      },
      warnings: o.log.warnings,
    },
  };
}
