/**
 * HEST's patch files (`patches/<id>.h5`, as `HESTData.dump_patches` writes them): `img`
 * N × side × side × 3 uint8 — tissue squares already cut around each spot at HEST's 0.5 µm/px
 * (224 px = 112 µm) — with `barcode` (N or N × 1 strings, the spots' `obs_names`) and `coords`
 * (N × 2, the squares' top-left corners on the WSI's level 0). Read through h5wasm in slices of
 * rows, so a file of thousands of patches is never held whole.
 */
import h5wasm from "h5wasm/node";
import { DataError } from "../errors.ts";
import { assertHdf5, exists } from "./files.ts";
import { h5Ready } from "./h5ad.ts";

type H5Dataset = InstanceType<typeof h5wasm.Dataset>;

/** The side HEST cuts its patches at (224 px at 0.5 µm/px). */
export const HEST_PATCH_SIDE = 224;
/** HEST's patch resolution, µm per pixel. */
export const HEST_PATCH_UM_PER_PX = 0.5;

/** What a patch file holds, without its pixels. */
export interface PatchFileInfo {
  path: string;
  /** Spot ids, one per patch, in file order. */
  barcodes: string[];
  /** Patch side in pixels (224 in files HEST wrote). */
  side: number;
}

/** Opens a plain HDF5 file (HEST's `.h5`) for reading; a DataError naming it otherwise. */
export function openH5(path: string, what = "patch file"): InstanceType<typeof h5wasm.File> {
  if (!exists(path)) throw new DataError(`${what} not found`, { file: path });
  assertHdf5(path);
  try {
    return new h5wasm.File(path, "r");
  } catch (e) {
    throw new DataError(`not a readable HDF5 file: ${(e as Error).message}`, { file: path });
  }
}

function imgDataset(f: InstanceType<typeof h5wasm.File>, path: string): H5Dataset {
  const img = f.get("img");
  if (!(img instanceof h5wasm.Dataset)) {
    throw new DataError(
      `no 'img' dataset (has: ${
        f.keys().join(", ")
      }): expected HEST patches, img N × 224 × 224 × 3 uint8`,
      { file: path },
    );
  }
  const shape = img.shape ?? [];
  const meta = img.metadata;
  if (
    shape.length !== 4 || shape[3] !== 3 || shape[1] !== shape[2] || meta.type !== 0 ||
    meta.size !== 1 || meta.signed
  ) {
    throw new DataError(
      `'img' is ${
        shape.join(" × ")
      } of dtype ${img.dtype}: expected N × side × side × 3 uint8 (HEST writes 224 × 224 RGB)`,
      { file: path },
    );
  }
  return img;
}

/**
 * The strings of a dataset of N or N × 1 strings, as h5py writes numpy `S` (fixed-length
 * bytes) or `str` (variable-length) arrays.
 */
export function h5Strings(ds: H5Dataset): string[] {
  const raw = ds.value;
  return (Array.isArray(raw) ? raw : []).flat().map((v) =>
    v instanceof Uint8Array ? new TextDecoder().decode(v) : String(v)
  );
}

/**
 * The barcodes and patch side of a HEST patch file; a DataError naming the file when it is not
 * one (no `img`, not square RGB uint8, no `barcode`, counts that disagree, repeated barcodes).
 */
export async function readPatchFileInfo(path: string): Promise<PatchFileInfo> {
  await h5Ready();
  const f = openH5(path);
  try {
    const img = imgDataset(f, path);
    const n = img.shape![0];
    const b = f.get("barcode") ?? f.get("barcodes");
    if (!(b instanceof h5wasm.Dataset)) {
      throw new DataError(
        `no 'barcode' dataset (has: ${f.keys().join(", ")}): patches cannot be matched to spots`,
        { file: path },
      );
    }
    const barcodes = h5Strings(b);
    if (barcodes.length !== n) {
      throw new DataError(`${barcodes.length} barcodes for ${n} patches`, { file: path });
    }
    const seen = new Map<string, number>();
    barcodes.forEach((c, i) => {
      if (seen.has(c)) {
        throw new DataError(
          `barcode appears twice (patches ${seen.get(c)! + 1} and ${i + 1})`,
          { file: path, spot: c },
        );
      }
      seen.set(c, i);
    });
    return { path, barcodes, side: img.shape![1] };
  } finally {
    f.close();
  }
}

/**
 * Calls `use(row, pixels)` for each wanted row of `img`, in file order, reading `chunk` rows at a
 * time (pixels: side × side × 3, valid only during the call), and `afterChunk` after each read.
 */
export async function forEachPatch(
  path: string,
  rows: Iterable<number>,
  use: (row: number, pixels: Uint8Array) => void,
  chunk = 128,
  afterChunk?: () => Promise<void> | void,
): Promise<void> {
  await h5Ready();
  const f = openH5(path);
  try {
    const img = imgDataset(f, path);
    const [n, side] = img.shape!;
    const per = side * side * 3;
    const wanted = [...new Set(rows)].sort((a, b) => a - b);
    for (let k = 0; k < wanted.length;) {
      const start = wanted[k];
      const end = Math.min(n, start + chunk);
      const block = img.slice([[start, end]]) as Uint8Array;
      for (; k < wanted.length && wanted[k] < end; k++) {
        const r = wanted[k] - start;
        use(wanted[k], block.subarray(r * per, (r + 1) * per));
      }
      await afterChunk?.();
    }
  } finally {
    f.close();
  }
}
