/**
 * Writes a dataset in HEST-1k's layout (st/, metadata/, wsis/, patches/), so data read here —
 * HER2+, a Visium folder, one's own AnnData — can go to tools that read HEST (the `hest`
 * library, HEST-Benchmark-style pipelines), and so the HEST reader can be checked against the
 * native one on the same sections. The WSI is a tiled pyramidal TIFF written by libvips
 * (streamed, never decoded whole in memory); patches are 224 px at 0.5 µm/px around each spot,
 * as `HESTData.dump_patches` cuts them.
 */
import { join, resolve } from "node:path";
import sharp from "sharp";
import h5wasm from "h5wasm/node";
import { DataError } from "../errors.ts";
import type { Dataset, Slice } from "../data/slice.ts";
import { exists, writeFileAtomic } from "../io/files.ts";
import { h5Ready, sliceToAnnData, writeH5ad } from "../io/h5ad.ts";
import { HEST_PATCH_SIDE, HEST_PATCH_UM_PER_PX } from "../io/patch_file.ts";
import { HEST_PATCH_UM } from "../io/hest.ts";
import { forEachPatchChunk } from "../features/patches.ts";

export interface HestWriteOptions {
  /** µm per full-resolution pixel (default: the image's patch area taken as 112 µm, i.e. 0.5 µm/px for 224 px). */
  pixelSizeUm?: number;
  /** Write patches/<id>.h5 (default true). */
  patches?: boolean;
  /** TIFF compression of the WSI: `jpeg` (HEST's, default, quality 90), `lzw` or `deflate` (lossless). */
  compression?: "jpeg" | "lzw" | "deflate";
}

/** The files written for one sample. */
export interface HestWritten {
  id: string;
  files: string[];
  pixelSizeUm: number;
}

/** Writes one slice as HEST sample `slice.name` under `root`. */
export async function writeHestSample(
  s: Slice,
  root: string,
  o: HestWriteOptions = {},
): Promise<HestWritten> {
  for (const d of ["st", "metadata", "wsis", "patches"]) {
    Deno.mkdirSync(join(root, d), { recursive: true });
  }
  const id = s.name;
  if (!/^[A-Za-z0-9_.-]+$/.test(id)) {
    throw new DataError(`slice name '${id}' cannot be a HEST sample id (letters, digits, _ . -)`);
  }
  const scale = s.image?.scale ?? 1;
  // Full-resolution µm/px; the WSI written is the image file as it is, so its pixels are
  // 1/scale full-resolution pixels each.
  const um = o.pixelSizeUm ?? HEST_PATCH_UM / (s.image?.patchAreaPx ?? 224);
  const wsiUm = um / scale;
  const files: string[] = [];
  // st/: the slice with obsm['spatial'] in the WSI's level-0 pixels.
  const inWsi: Slice = {
    ...s,
    pixel: { x: s.pixel.x.map((v) => v * scale), y: s.pixel.y.map((v) => v * scale) },
    image: undefined,
  };
  const st = join(root, "st", `${id}.h5ad`);
  await writeH5ad(st, sliceToAnnData(inWsi));
  files.push(st);
  let width: number | undefined, height: number | undefined;
  if (s.image && (s.image.path || s.image.pixels)) {
    const wsi = join(root, "wsis", `${id}.tif`);
    const input = s.image.pixels
      ? sharp(s.image.pixels.data, {
        raw: { width: s.image.pixels.width, height: s.image.pixels.height, channels: 3 },
      })
      : sharp(s.image.path!, { limitInputPixels: false });
    const compression = o.compression ?? "jpeg";
    const info = await input.toColourspace("srgb").removeAlpha().tiff({
      tile: true,
      tileWidth: 256,
      tileHeight: 256,
      pyramid: true,
      compression,
      ...(compression === "jpeg" ? { quality: 90 } : {}),
      xres: 1000 / wsiUm, // pixels per mm
      yres: 1000 / wsiUm,
      resolutionUnit: "cm",
    }).toFile(`${wsi}.partial`);
    Deno.renameSync(`${wsi}.partial`, wsi);
    width = info.width;
    height = info.height;
    files.push(wsi);
    if (o.patches ?? true) {
      files.push(await writePatchFile(s, join(root, "patches", `${id}.h5`), um));
    }
  }
  const meta = {
    id,
    dataset_title: "exported by spahgc",
    patient: s.patient,
    st_technology: "unknown",
    species: "unknown",
    organ: "unknown",
    disease_state: "unknown",
    pixel_size_um_embedded: wsiUm,
    pixel_size_um_estimated: wsiUm,
    spots_under_tissue: s.spots.length,
    ...(width ? { fullres_px_width: width, fullres_px_height: height } : {}),
  };
  const mf = join(root, "metadata", `${id}.json`);
  writeFileAtomic(mf, JSON.stringify(meta, null, 1));
  files.push(mf);
  return { id, files, pixelSizeUm: wsiUm };
}

/** HEST's patch file for a slice: 224 px at 0.5 µm/px around each spot, with barcodes and coords. */
async function writePatchFile(s: Slice, file: string, um: number): Promise<string> {
  await h5Ready();
  const areaPx = HEST_PATCH_SIDE * HEST_PATCH_UM_PER_PX / um; // full-resolution pixels
  const n = s.spots.length, per = HEST_PATCH_SIDE * HEST_PATCH_SIDE * 3;
  const tmp = `${file}.partial`;
  const f = new h5wasm.File(tmp, "w");
  try {
    const img = f.create_dataset({
      name: "img",
      data: new Uint8Array(0),
      shape: [0, HEST_PATCH_SIDE, HEST_PATCH_SIDE, 3],
      maxshape: [null, HEST_PATCH_SIDE, HEST_PATCH_SIDE, 3],
      chunks: [16, HEST_PATCH_SIDE, HEST_PATCH_SIDE, 3],
      dtype: "<B",
    });
    // Patches go in spot order; the chunks come in the source's order, so place them by index.
    img.resize([n, HEST_PATCH_SIDE, HEST_PATCH_SIDE, 3]);
    await forEachPatchChunk(s, { size: HEST_PATCH_SIDE, areaPx, chunk: 256 }, (c) => {
      c.spots.forEach((i, k) => {
        img.write_slice([[i, i + 1]], c.data.subarray(k * per, (k + 1) * per));
      });
    });
    f.create_dataset({ name: "barcode", data: s.spots, shape: [n, 1] });
    const scale = s.image?.scale ?? 1;
    const coords = new Int32Array(n * 2);
    for (let i = 0; i < n; i++) {
      coords[2 * i] = Math.round((s.pixel.x[i] - areaPx / 2) * scale);
      coords[2 * i + 1] = Math.round((s.pixel.y[i] - areaPx / 2) * scale);
    }
    f.create_dataset({ name: "coords", data: coords, shape: [n, 2] });
  } finally {
    f.close();
  }
  Deno.renameSync(tmp, file);
  return file;
}

/**
 * Writes every slice of a dataset as a HEST-1k root.
 *
 * @example
 * ```ts
 * await writeHest(await loadDataset("her2st", { slices: ["B4"] }), "out/hest", { compression: "lzw" });
 * ```
 */
export async function writeHest(
  ds: Dataset,
  root: string,
  o: HestWriteOptions = {},
): Promise<HestWritten[]> {
  const out: HestWritten[] = [];
  for (const s of ds.slices) out.push(await writeHestSample(s, root, o));
  return out;
}

/**
 * Makes a HEST-Benchmark task folder from a HEST-1k root: `adata/` and `patches/` of the samples
 * (symbolic links, or copies with `copy`), `splits/test_k.csv` holding `splits[k]` out and
 * `train_k.csv` the rest (as pandas' `to_csv` writes them, with its index), and the gene list.
 *
 * @example
 * ```ts
 * writeHestBenchTask("data/hest", "tasks/her2", [["B4", "C2"], ["C3", "C4"]], ["ERBB2", "FASN"]);
 * ```
 */
export function writeHestBenchTask(
  root: string,
  task: string,
  splits: string[][],
  genes: string[],
  o: { copy?: boolean } = {},
): string {
  const ids = splits.flat();
  for (const d of ["adata", "patches", "splits"]) {
    Deno.mkdirSync(join(task, d), { recursive: true });
  }
  for (const id of ids) {
    for (
      const [from, to] of [[`st/${id}.h5ad`, `adata/${id}.h5ad`], [
        `patches/${id}.h5`,
        `patches/${id}.h5`,
      ]]
    ) {
      const src = join(root, from), dst = join(task, to);
      if (!exists(src)) throw new DataError(`sample ${id} has no ${from}`, { file: src });
      if (exists(dst)) Deno.removeSync(dst);
      if (o.copy) Deno.copyFileSync(src, dst);
      else Deno.symlinkSync(resolve(src), dst);
    }
  }
  const csv = (rows: string[]) =>
    ",sample_id,patches_path,expr_path\n" +
    rows.map((id, i) => `${i},${id},patches/${id}.h5,adata/${id}.h5ad`).join("\n") + "\n";
  splits.forEach((test, k) => {
    writeFileAtomic(join(task, "splits", `test_${k}.csv`), csv(test));
    writeFileAtomic(
      join(task, "splits", `train_${k}.csv`),
      csv(ids.filter((i) => !test.includes(i))),
    );
  });
  writeFileAtomic(join(task, "var_50genes.json"), JSON.stringify({ genes }));
  return task;
}
