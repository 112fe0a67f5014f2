/**
 * Spot patches: the square of tissue centred on each spot, sampled to an encoder's input size.
 *
 * The tissue area is fixed in the full-resolution pixel frame (`areaPx`, 224 px as in the
 * paper); the image is decoded once per slice at just the resolution the output needs (an image
 * at another resolution — HER2+ A1 exists only at scale 2000/6954 — gets the same tissue area,
 * resampled), never once per patch. Windows reaching past the image edge are padded white and
 * counted; a spot centre outside the image is an error naming the spot.
 */
import { DataError } from "../errors.ts";
import type { Slice } from "../data/slice.ts";
import { decodeImage, imageSize } from "../io/image.ts";

export interface PatchOptions {
  /** Output side in pixels (the encoder's input size). Default 224. */
  size?: number;
  /** Side of the tissue square in the full-resolution pixel frame. Default: the image's `patchAreaPx`, else 224. */
  areaPx?: number;
}

export interface PatchSet {
  slice: string;
  /** Output side in pixels. */
  size: number;
  n: number;
  /** n × size × size × 3, row-major RGB. */
  data: Uint8Array;
  /** Number of patches with white padding (window past the image edge). */
  padded: number;
  /** Colour-space fix-ups made while decoding the image. */
  fixups: string[];
  /** Decoding factor and window side in the decoded image, for provenance. */
  decodeFactor: number;
  windowPx: number;
}

/** Extracts one patch per spot of a slice. */
export async function extractPatches(slice: Slice, opts: PatchOptions = {}): Promise<PatchSet> {
  const size = opts.size ?? 224;
  if (!slice.image) {
    throw new DataError(`slice ${slice.name} has no image; image features need one`);
  }
  const areaPx = opts.areaPx ?? slice.image.patchAreaPx ?? 224;
  const scale = slice.image.scale;
  const native = await imageSize(slice.image);
  // Decode at the lowest resolution that still gives `size` pixels across the window.
  const factor = Math.min(1, size / (areaPx * scale));
  const img = await decodeImage(slice.image, factor);
  const f = img.width / native.width; // the factor sharp actually applied
  const win = areaPx * scale * f;
  const n = slice.counts.nRows;
  const data = new Uint8Array(n * size * size * 3);
  let padded = 0;
  const W = img.width, H = img.height, src = img.data;
  for (let i = 0; i < n; i++) {
    const cx = slice.pixel.x[i] * scale * f, cy = slice.pixel.y[i] * scale * f;
    if (!(cx >= 0 && cx < W && cy >= 0 && cy < H)) {
      throw new DataError(
        `spot centre (${slice.pixel.x[i]}, ${
          slice.pixel.y[i]
        }) lies outside the ${native.width}×${native.height} image (scale ${scale})`,
        { file: slice.image.path, spot: slice.spots[i] },
      );
    }
    const out = i * size * size * 3;
    const step = win / size;
    const x0 = cx - win / 2, y0 = cy - win / 2;
    if (x0 < 0 || y0 < 0 || x0 + win > W || y0 + win > H) padded++;
    if (Math.abs(step - 1) < 1e-9) {
      // Same resolution: copy rows from the nearest integer origin.
      const ox = Math.round(x0), oy = Math.round(y0);
      for (let v = 0; v < size; v++) {
        const yy = oy + v;
        for (let u = 0; u < size; u++) {
          const xx = ox + u;
          const o = out + (v * size + u) * 3;
          if (xx < 0 || yy < 0 || xx >= W || yy >= H) {
            data[o] = data[o + 1] = data[o + 2] = 255;
          } else {
            const s = (yy * W + xx) * 3;
            data[o] = src[s];
            data[o + 1] = src[s + 1];
            data[o + 2] = src[s + 2];
          }
        }
      }
    } else {
      // Resample: bilinear at pixel centres, white outside the image.
      for (let v = 0; v < size; v++) {
        const sy = y0 + (v + 0.5) * step - 0.5;
        const yi = Math.floor(sy), fy = sy - yi;
        for (let u = 0; u < size; u++) {
          const sx = x0 + (u + 0.5) * step - 0.5;
          const xi = Math.floor(sx), fx = sx - xi;
          const o = out + (v * size + u) * 3;
          for (let c = 0; c < 3; c++) {
            const p = (
              xx: number,
              yy: number,
            ) => (xx < 0 || yy < 0 || xx >= W || yy >= H ? 255 : src[(yy * W + xx) * 3 + c]);
            const top = p(xi, yi) * (1 - fx) + p(xi + 1, yi) * fx;
            const bottom = p(xi, yi + 1) * (1 - fx) + p(xi + 1, yi + 1) * fx;
            data[o + c] = Math.round(top * (1 - fy) + bottom * fy);
          }
        }
      }
    }
  }
  return {
    slice: slice.name,
    size,
    n,
    data,
    padded,
    fixups: img.fixups,
    decodeFactor: f,
    windowPx: win,
  };
}
