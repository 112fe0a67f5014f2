/**
 * Writes HEST-1k and HEST-Benchmark folders in the hest library's exact layout for the tests,
 * independently of the project's readers: st/<id>.h5ad by Python's anndata (with HEST's obs
 * columns and uns['spatial']['ST']), patches/<id>.h5 by h5py (224 px at 0.5 µm/px, cut around
 * each spot as `HESTData.dump_patches` does: top-left = centre − side/2, then resized),
 * metadata/<id>.json by Python's json (NaN for missing values, as HEST's files have), and
 * wsis/<id>.tif as a tiled pyramidal TIFF by libvips (sharp). The tissue comes from the
 * project's synthetic cohort, drawn at 2 µm/px (a 112 µm patch is 56 px there).
 */
import { join } from "node:path";
import sharp from "sharp";
import { generateSynthetic, sliceToAnnData, writeH5ad } from "../../lib/mod.ts";
import type { Slice } from "../../lib/data/slice.ts";
import { python } from "../helpers.ts";

/** The synthetic images' resolution, µm per pixel (their patch area is 56 px = 112 µm). */
export const FIXTURE_UM_PER_PX = 2;

export interface FixtureSample {
  id: string;
  /** Which synthetic slice (0-based) it is drawn from. */
  from: number;
  patient?: string | null;
  organ?: string;
  disease_state?: string;
  st_technology?: string;
  /** null writes the metadata without any pixel size. */
  pixelSize?: number | null;
  wsi?: boolean;
  /** false: none; a number: patches of that side instead of 224. */
  patches?: boolean | number;
  /** Spots the patch file leaves out (the first k), and barcodes it adds that no spot has. */
  dropPatches?: number;
  extraPatches?: number;
  /** Xenium-like pseudo-spots: dense uint16 X, obs names like `000x001`, a square grid. */
  xenium?: boolean;
}

const PY_WRITER = String.raw`
import json, sys, math
import numpy as np, anndata as ad, h5py, scipy.sparse as sp
cfg = json.load(open(sys.argv[1]))
root = cfg["root"]
for s in cfg["samples"]:
    a = ad.read_h5ad(s["h5ad"])
    n = a.n_obs
    X = sp.csr_matrix(a.X).astype(np.float32)
    px = np.asarray(a.obsm["spatial"], dtype=np.float64)
    obs = {"in_tissue": np.ones(n, dtype=np.int64),
           "pxl_col_in_fullres": px[:, 0], "pxl_row_in_fullres": px[:, 1]}
    names = list(a.obs_names)
    if s.get("xenium"):
        col = np.round(a.obs["array_x"].values).astype(np.int64)
        row = np.round(a.obs["array_y"].values).astype(np.int64)
        obs["array_col"], obs["array_row"] = col, row
        names = [str(r).zfill(3) + "x" + str(c).zfill(3) for r, c in zip(row, col)]
        X = np.asarray(X.todense()).astype(np.uint16)
    else:
        obs["array_col"] = np.round(a.obs["array_x"].values).astype(np.int64)
        obs["array_row"] = np.round(a.obs["array_y"].values).astype(np.int64)
    import pandas as pd
    h = ad.AnnData(X=X, obs=pd.DataFrame(obs, index=names), var=pd.DataFrame(index=list(a.var_names)))
    h.obsm["spatial"] = px
    w, hh = s["width"], s["height"]
    img = np.fromfile(s["rgb"], dtype=np.uint8).reshape(hh, w, 3)
    small = img[::4, ::4].copy()
    h.uns["spatial"] = {"ST": {"images": {"downscaled_fullres": small},
                               "scalefactors": {"tissue_downscaled_fullres_scalef": 0.25,
                                                "spot_diameter_fullres": 27.5}}}
    h.write_h5ad(f"{root}/st/{s['id']}.h5ad")
    meta = {"dataset_title": "synthetic", "id": s["id"], "organ": s["organ"],
            "disease_state": s["disease_state"], "oncotree_code": float("nan"), "species": "Homo sapiens",
            "patient": s["patient"] if s["patient"] is not None else float("nan"),
            "st_technology": s["st_technology"], "magnification": "20x",
            "fullres_px_width": w, "fullres_px_height": hh, "spots_under_tissue": n}
    if s["pixelSize"] is not None:
        meta["pixel_size_um_embedded"] = s["pixelSize"]
        meta["pixel_size_um_estimated"] = s["pixelSize"]
    with open(f"{root}/metadata/{s['id']}.json", "w") as f:
        json.dump(meta, f)
    if s["patches"]:
        side = 224 if s["patches"] is True else int(s["patches"])
        src = 224 * (0.5 / s["umPerPx"])          # HEST's patch_size_src
        keep = list(range(s.get("dropPatches", 0), n))
        tl = (px - src // 2).astype(int)
        imgs, bcs, coords = [], [], []
        for i in keep:
            x0, y0 = tl[i]
            win = np.full((int(src), int(src), 3), 255, np.uint8)
            xa, ya = max(0, x0), max(0, y0)
            xb, yb = min(w, x0 + int(src)), min(hh, y0 + int(src))
            win[ya - y0:yb - y0, xa - x0:xb - x0] = img[ya:yb, xa:xb]
            idx = (np.arange(side) * src / side).astype(int)   # nearest-neighbour resize
            imgs.append(win[idx][:, idx])
            bcs.append(names[i]); coords.append([x0, y0])
        for k in range(s.get("extraPatches", 0)):
            imgs.append(np.zeros((side, side, 3), np.uint8)); bcs.append(f"EXTRA{k}"); coords.append([0, 0])
        with h5py.File(f"{root}/patches/{s['id']}.h5", "w") as f:
            f["img"] = np.stack(imgs)
            f["coords"] = np.array(coords, dtype=np.int64)
            f["barcode"] = np.array([[b] for b in bcs], dtype="S")
print("ok")
`;

/** The synthetic slices the fixtures draw from (deterministic). */
export function fixtureSlices(): Slice[] {
  return generateSynthetic({ patients: 2, sectionsPerPatient: 2, grid: 12, genes: 60, seed: 3 })
    .slices;
}

/** Writes a HEST-1k root with the given samples into `root`; returns `root`. */
export async function writeHestRoot(root: string, samples: FixtureSample[]): Promise<string> {
  const slices = fixtureSlices();
  for (const d of ["st", "metadata", "wsis", "patches", ".src"]) {
    Deno.mkdirSync(join(root, d), { recursive: true });
  }
  const cfg = [];
  for (const s of samples) {
    const sl = slices[s.from];
    const px = sl.image!.pixels!;
    const h5 = join(root, ".src", `${s.id}.h5ad`), rgb = join(root, ".src", `${s.id}.rgb`);
    await writeH5ad(h5, sliceToAnnData(sl));
    Deno.writeFileSync(rgb, px.data);
    if (s.wsi ?? true) {
      await sharp(px.data, { raw: { width: px.width, height: px.height, channels: 3 } })
        .tiff({ tile: true, tileWidth: 64, tileHeight: 64, pyramid: true, compression: "lzw" })
        .toFile(join(root, "wsis", `${s.id}.tif`));
    }
    cfg.push({
      id: s.id,
      h5ad: h5,
      rgb,
      width: px.width,
      height: px.height,
      umPerPx: FIXTURE_UM_PER_PX,
      patient: s.patient === undefined ? sl.patient : s.patient,
      organ: s.organ ?? "Lymph node",
      disease_state: s.disease_state ?? "Cancer",
      st_technology: s.st_technology ?? (s.xenium ? "Xenium" : "Visium"),
      pixelSize: s.pixelSize === undefined ? FIXTURE_UM_PER_PX : s.pixelSize,
      patches: s.patches ?? true,
      dropPatches: s.dropPatches ?? 0,
      extraPatches: s.extraPatches ?? 0,
      xenium: s.xenium ?? false,
    });
  }
  const cfgFile = join(root, ".src", "config.json");
  Deno.writeTextFileSync(cfgFile, JSON.stringify({ root, samples: cfg }));
  python(PY_WRITER, cfgFile);
  Deno.removeSync(join(root, ".src"), { recursive: true });
  return root;
}

/**
 * Writes a HEST-Benchmark task (adata/, patches/, splits/, var_50genes.json) from a HEST root
 * already written: samples `ids`, split k testing `splits[k]` and training on the rest. Written
 * here, not by the library's `writeHestBenchTask`, so the reader is tested on files the code
 * under test did not make.
 */
export function writeHestBenchTask(
  task: string,
  root: string,
  ids: string[],
  splits: string[][],
  genes: string[],
): string {
  for (const d of ["adata", "patches", "splits"]) {
    Deno.mkdirSync(join(task, d), { recursive: true });
  }
  for (const id of ids) {
    Deno.copyFileSync(join(root, "st", `${id}.h5ad`), join(task, "adata", `${id}.h5ad`));
    Deno.copyFileSync(join(root, "patches", `${id}.h5`), join(task, "patches", `${id}.h5`));
  }
  const csv = (rows: string[]) =>
    // pandas' to_csv with its index, as HEST's split files are written
    ",sample_id,patches_path,expr_path\n" +
    rows.map((id, i) => `${i},${id},patches/${id}.h5,adata/${id}.h5ad`).join("\n") + "\n";
  splits.forEach((test, k) => {
    Deno.writeTextFileSync(join(task, "splits", `test_${k}.csv`), csv(test));
    Deno.writeTextFileSync(
      join(task, "splits", `train_${k}.csv`),
      csv(ids.filter((i) => !test.includes(i))),
    );
  });
  Deno.writeTextFileSync(join(task, "var_50genes.json"), JSON.stringify({ genes }));
  return task;
}
