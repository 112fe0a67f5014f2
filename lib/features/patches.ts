/**
 * Spot patches: the square of tissue centred on each spot, sampled to an encoder's input size.
 *
 * The tissue area is fixed in the full-resolution pixel frame (`areaPx`, 224 px as in the
 * paper, or the image's `patchAreaPx`, e.g. 112 µm at a HEST sample's pixel size). Three sources,
 * one sampler:
 * - a patch file (HEST's `patches/<id>.h5`): the squares were cut already, resampled here to the
 *   output size, read a slice of rows at a time;
 * - a large TIFF (a whole-slide image): read in horizontal bands through libvips, which decodes
 *   only the tiles a band touches, so memory is bounded by one band, not the slide;
 * - any other image (JPEG, PNG, a small TIFF, pixels in memory): decoded once per slice at just
 *   the resolution the output needs (an image at another resolution — HER2+ A1 exists only at
 *   scale 2000/6954 — gets the same tissue area, resampled), never once per patch.
 * Windows reaching past the image edge are padded white and counted; a spot centre outside the
 * image is an error naming the spot.
 */
import sharp from "sharp";
import { DataError } from "../errors.ts";
import type { Slice, SliceImage } from "../data/slice.ts";
import { decodeImage, imageSize } from "../io/image.ts";
import { forEachPatch } from "../io/patch_file.ts";

export interface PatchOptions {
  /** Output side in pixels (the encoder's input size). Default 224. */
  size?: number;
  /** Side of the tissue square in the full-resolution pixel frame. Default: the image's `patchAreaPx`, else 224. */
  areaPx?: number;
  /**
   * Largest decoded image (bytes) read whole; a TIFF above it is read in bands. Default 512 MiB
   * (a 9,000 × 10,000 px H&E JPEG at full resolution is 270 MB; a 50,000 px slide at half, 1.9 GB).
   */
  maxDecodeBytes?: number;
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
  /** Colour-space fix-ups made while decoding the image, and what a patch file needed. */
  fixups: string[];
  /** Decoding factor and window side in the decoded image, for provenance. */
  decodeFactor: number;
  windowPx: number;
  /** Where the pixels came from: `patch-file`, `bands` (TIFF regions) or `decoded` (whole image). */
  source: "patch-file" | "bands" | "decoded";
}

/**
 * Samples the `win`-pixel square with top-left (x0, y0) of an RGB buffer to `size` × `size` into
 * `out` at `offset`: a straight copy at equal resolution, bilinear at pixel centres otherwise
 * (a 2:1 reduction is then the mean of each 2 × 2 block), white outside the buffer.
 */
function sampleWindow(
  src: Uint8Array,
  W: number,
  H: number,
  x0: number,
  y0: number,
  win: number,
  size: number,
  out: Uint8Array,
  offset: number,
): void {
  const step = win / size;
  if (Math.abs(step - 1) < 1e-9) {
    const ox = Math.round(x0), oy = Math.round(y0);
    for (let v = 0; v < size; v++) {
      const yy = oy + v;
      for (let u = 0; u < size; u++) {
        const xx = ox + u;
        const o = offset + (v * size + u) * 3;
        if (xx < 0 || yy < 0 || xx >= W || yy >= H) {
          out[o] = out[o + 1] = out[o + 2] = 255;
        } else {
          const s = (yy * W + xx) * 3;
          out[o] = src[s];
          out[o + 1] = src[s + 1];
          out[o + 2] = src[s + 2];
        }
      }
    }
    return;
  }
  const p = (xx: number, yy: number, c: number) =>
    xx < 0 || yy < 0 || xx >= W || yy >= H ? 255 : src[(yy * W + xx) * 3 + c];
  for (let v = 0; v < size; v++) {
    const sy = y0 + (v + 0.5) * step - 0.5;
    const yi = Math.floor(sy), fy = sy - yi;
    for (let u = 0; u < size; u++) {
      const sx = x0 + (u + 0.5) * step - 0.5;
      const xi = Math.floor(sx), fx = sx - xi;
      const o = offset + (v * size + u) * 3;
      for (let c = 0; c < 3; c++) {
        const top = p(xi, yi, c) * (1 - fx) + p(xi + 1, yi, c) * fx;
        const bottom = p(xi, yi + 1, c) * (1 - fx) + p(xi + 1, yi + 1, c) * fx;
        out[o + c] = Math.round(top * (1 - fy) + bottom * fy);
      }
    }
  }
}

/** A DataError naming the spot whose centre lies outside the image. */
function outsideError(slice: Slice, i: number, W: number, H: number, scale: number): DataError {
  return new DataError(
    `spot centre (${slice.pixel.x[i]}, ${
      slice.pixel.y[i]
    }) lies outside the ${W}×${H} image (scale ${scale})`,
    { file: slice.image?.path, spot: slice.spots[i] },
  );
}

/** A chunk of patches: `data` holds `spots.length` patches, `spots[k]` the spot of the k-th. */
export interface PatchChunk {
  spots: Int32Array;
  size: number;
  data: Uint8Array;
}

/** What a pass over a slice's patches found, besides the pixels. */
export type PatchSummary = Omit<PatchSet, "data">;

/** Fills fixed-size chunks of patches and hands each on when full. */
class ChunkWriter {
  private spots: number[] = [];
  private data: Uint8Array;
  constructor(
    private readonly size: number,
    private readonly cap: number,
    private readonly use: (c: PatchChunk) => Promise<void> | void,
  ) {
    this.data = new Uint8Array(cap * size * size * 3);
  }
  /** Adds spot i's patch, written by `fill` at `offset` of `out`. */
  async add(i: number, fill: (out: Uint8Array, offset: number) => void): Promise<void> {
    fill(this.data, this.spots.length * this.size * this.size * 3);
    this.spots.push(i);
    if (this.spots.length === this.cap) await this.flush();
  }
  async flush(): Promise<void> {
    if (!this.spots.length) return;
    const k = this.spots.length, per = this.size * this.size * 3;
    // The filled buffer goes out as it is (no copy) and the next chunk gets a fresh one.
    const chunk = {
      spots: Int32Array.from(this.spots),
      size: this.size,
      data: this.data.subarray(0, k * per),
    };
    this.spots = [];
    this.data = new Uint8Array(this.cap * per);
    await this.use(chunk);
  }
}

/** Patches from a patch file: each row resampled from its side to `size`. */
async function fromPatchFile(
  slice: Slice,
  file: NonNullable<SliceImage["patchFile"]>,
  size: number,
  out: ChunkWriter,
): Promise<PatchSummary> {
  const n = slice.counts.nRows;
  if (file.rows.length !== n) {
    throw new DataError(
      `patch rows for ${file.rows.length} spots, slice ${slice.name} has ${n}`,
      { file: file.path },
    );
  }
  const spotsOf = new Map<number, number[]>();
  file.rows.forEach((r, i) => spotsOf.set(r, [...(spotsOf.get(r) ?? []), i]));
  const pending: { i: number; px: Uint8Array }[] = [];
  await forEachPatch(
    file.path,
    spotsOf.keys(),
    (row, px) => {
      // The callback is synchronous (h5wasm's buffer is only valid during it): copy, add after.
      for (const i of spotsOf.get(row)!) pending.push({ i, px: px.slice() });
    },
    128,
    async () => {
      for (const { i, px } of pending.splice(0)) {
        await out.add(
          i,
          (o, off) => sampleWindow(px, file.side, file.side, 0, 0, file.side, size, o, off),
        );
      }
    },
  );
  await out.flush();
  return {
    slice: slice.name,
    size,
    n,
    padded: 0,
    fixups: [],
    decodeFactor: size / file.side,
    windowPx: file.side,
    source: "patch-file",
  };
}

/**
 * The pyramid level of a TIFF to read at `factor` of level 0: the smallest page still at least
 * `factor` × level 0 (pages of a pyramidal TIFF are its levels; a page of another aspect ratio —
 * a label or macro image — is not a level). Level 0 when the file has no pyramid.
 */
async function pyramidLevel(
  path: string,
  native: { width: number; height: number },
  factor: number,
): Promise<{ page: number; width: number; height: number; scale: number }> {
  let best = { page: 0, width: native.width, height: native.height, scale: 1 };
  const pages = (await sharp(path, { limitInputPixels: false }).metadata()).pages ?? 1;
  for (let p = 1; p < pages; p++) {
    const m = await sharp(path, { limitInputPixels: false, page: p }).metadata();
    if (!m.width || !m.height) break;
    const scale = m.width / native.width;
    if (Math.abs(m.height / native.height - scale) > 0.01 || scale >= best.scale) break;
    if (scale + 1e-9 < factor) break;
    best = { page: p, width: m.width, height: m.height, scale };
  }
  return best;
}

/**
 * Patches from a large TIFF in horizontal bands: spots sorted by their window's top edge, each
 * band the rows (and columns) its spots' windows span, extracted and downscaled by libvips.
 */
async function fromBands(
  slice: Slice,
  img: SliceImage,
  native: { width: number; height: number },
  areaPx: number,
  size: number,
  out: ChunkWriter,
): Promise<PatchSummary> {
  const n = slice.counts.nRows;
  const scale = img.scale;
  const winSrc = areaPx * scale; // window side in the file's pixels
  const factor = Math.min(1, size / winSrc);
  // Band height in source rows: a few windows, at least 1024 rows (4 of the usual 256-px tiles),
  // so libvips reads whole tiles; the band, not the slide, bounds the memory.
  const bandRows = Math.max(1024, Math.ceil(4 * winSrc));
  const order = Array.from({ length: n }, (_, i) => i);
  const cx = (i: number) => slice.pixel.x[i] * scale, cy = (i: number) => slice.pixel.y[i] * scale;
  for (let i = 0; i < n; i++) {
    if (!(cx(i) >= 0 && cx(i) < native.width && cy(i) >= 0 && cy(i) < native.height)) {
      throw outsideError(slice, i, native.width, native.height, scale);
    }
  }
  order.sort((a, b) => cy(a) - cy(b));
  const level = await pyramidLevel(img.path!, native, factor);
  let padded = 0;
  const fixups = new Set<string>();
  for (let k = 0; k < n;) {
    const top = Math.max(0, Math.floor(cy(order[k]) - winSrc / 2) - 1);
    const bottom = Math.min(native.height, top + bandRows);
    let end = k;
    let left = native.width, right = 0;
    while (end < n && (end === k || cy(order[end]) + winSrc / 2 + 1 <= bottom)) {
      left = Math.min(left, cx(order[end]) - winSrc / 2);
      right = Math.max(right, cx(order[end]) + winSrc / 2);
      end++;
    }
    // A margin around the windows keeps the resampling kernel (lanczos3: ±3 output pixels) off
    // the band's own edges, so a window is resampled as it would be in the whole image.
    const margin = Math.ceil(4 / factor);
    const l = Math.max(0, Math.floor(left) - margin);
    const r = Math.min(native.width, Math.ceil(right) + margin);
    const t = Math.max(0, top - margin);
    const h = Math.max(1, Math.min(native.height, Math.max(bottom, top + 1) + margin) - t);
    // Read from the pyramid level closest above the resolution needed (its pages are the
    // levels), so a downscaled band decodes a quarter or less of the level-0 tiles.
    const lv = level, s = lv.scale;
    const lk = Math.floor(l * s), tk = Math.floor(t * s);
    const wk = Math.max(1, Math.min(lv.width - lk, Math.ceil(r * s) - lk));
    const hk = Math.max(1, Math.min(lv.height - tk, Math.ceil((t + h) * s) - tk));
    const rest = factor / s; // ≤ 1: what libvips still resamples after the level
    let pipeline = sharp(img.path!, { limitInputPixels: false, page: lv.page })
      .extract({ left: lk, top: tk, width: wk, height: hk })
      .toColourspace("srgb").removeAlpha();
    const ow = Math.max(1, Math.round(wk * rest)), oh = Math.max(1, Math.round(hk * rest));
    if (rest < 1 - 1e-9) pipeline = pipeline.resize({ width: ow, height: oh, fit: "fill" });
    let band: { data: Uint8Array; width: number; height: number };
    try {
      const { data: buf, info } = await pipeline.raw({ depth: "uchar" }).toBuffer({
        resolveWithObject: true,
      });
      if (info.channels !== 3) fixups.add(`decoded to ${info.channels} channels`);
      band = {
        data: new Uint8Array(buf.buffer, buf.byteOffset, buf.length),
        width: info.width,
        height: info.height,
      };
    } catch (e) {
      throw new DataError(
        `image region ${wk}×${hk} at (${lk}, ${tk}) of page ${lv.page} does not decode: ${
          (e as Error).message
        }`,
        { file: img.path },
      );
    }
    // Band pixels per level-0 pixel, and the band's origin in level-0 pixels.
    const fx = band.width / (wk / s), fy = band.height / (hk / s);
    const l0 = lk / s, t0 = tk / s;
    // The sampler works on one grid step: take the band's mean factor (they differ by < 1 px).
    const f = (fx + fy) / 2;
    for (let q = k; q < end; q++) {
      const i = order[q];
      const x0 = cx(i) - winSrc / 2, y0 = cy(i) - winSrc / 2;
      if (x0 < 0 || y0 < 0 || x0 + winSrc > native.width || y0 + winSrc > native.height) padded++;
      await out.add(
        i,
        (o, off) =>
          sampleWindow(
            band.data,
            band.width,
            band.height,
            (x0 - l0) * fx,
            (y0 - t0) * fy,
            winSrc * f,
            size,
            o,
            off,
          ),
      );
    }
    k = end;
  }
  await out.flush();
  return {
    slice: slice.name,
    size,
    n,
    padded,
    fixups: [...fixups],
    decodeFactor: factor,
    windowPx: winSrc * factor,
    source: "bands",
  };
}

/** Patches from the image decoded once, whole, at the resolution the output needs. */
async function fromDecoded(
  slice: Slice,
  image: SliceImage,
  native: { width: number; height: number },
  areaPx: number,
  size: number,
  out: ChunkWriter,
): Promise<PatchSummary> {
  const scale = image.scale;
  const factor = Math.min(1, size / (areaPx * scale));
  const img = await decodeImage(image, factor);
  const f = img.width / native.width; // the factor sharp actually applied
  const win = areaPx * scale * f;
  const n = slice.counts.nRows;
  let padded = 0;
  const W = img.width, H = img.height;
  for (let i = 0; i < n; i++) {
    const cx = slice.pixel.x[i] * scale * f, cy = slice.pixel.y[i] * scale * f;
    if (!(cx >= 0 && cx < W && cy >= 0 && cy < H)) {
      throw outsideError(slice, i, native.width, native.height, scale);
    }
    const x0 = cx - win / 2, y0 = cy - win / 2;
    if (x0 < 0 || y0 < 0 || x0 + win > W || y0 + win > H) padded++;
    await out.add(i, (o, off) => sampleWindow(img.data, W, H, x0, y0, win, size, o, off));
  }
  await out.flush();
  return {
    slice: slice.name,
    size,
    n,
    padded,
    fixups: img.fixups,
    decodeFactor: f,
    windowPx: win,
    source: "decoded",
  };
}

/**
 * Hands a slice's patches on `chunk` spots at a time (in the order the source reads best: file
 * rows, bands top to bottom, or spot order), so memory holds one chunk, never every patch of a
 * slide with tens of thousands of spots. Returns what the pass found (padding, fix-ups, source).
 */
export async function forEachPatchChunk(
  slice: Slice,
  opts: PatchOptions & { chunk?: number },
  use: (c: PatchChunk) => Promise<void> | void,
): Promise<PatchSummary> {
  const size = opts.size ?? 224;
  if (!slice.image) {
    throw new DataError(`slice ${slice.name} has no image; image features need one`);
  }
  const out = new ChunkWriter(size, Math.max(1, opts.chunk ?? 1024), use);
  if (slice.image.patchFile) return await fromPatchFile(slice, slice.image.patchFile, size, out);
  if (!slice.image.path && !slice.image.pixels) {
    throw new DataError(`slice ${slice.name} has neither an image file nor patches`);
  }
  const areaPx = opts.areaPx ?? slice.image.patchAreaPx ?? 224;
  const native = await imageSize(slice.image);
  const factor = Math.min(1, size / (areaPx * slice.image.scale));
  const decodedBytes = native.width * native.height * factor * factor * 3;
  const isTiff = !!slice.image.path && /\.(tiff?|btf|svs)$/i.test(slice.image.path);
  if (isTiff && decodedBytes > (opts.maxDecodeBytes ?? 512 * 2 ** 20)) {
    return await fromBands(slice, slice.image, native, areaPx, size, out);
  }
  return await fromDecoded(slice, slice.image, native, areaPx, size, out);
}

/** Extracts one patch per spot of a slice, in spot order (all in memory). */
export async function extractPatches(slice: Slice, opts: PatchOptions = {}): Promise<PatchSet> {
  const size = opts.size ?? 224;
  const per = size * size * 3;
  const data = new Uint8Array(slice.counts.nRows * per);
  const summary = await forEachPatchChunk(slice, opts, (c) => {
    c.spots.forEach((i, k) => data.set(c.data.subarray(k * per, (k + 1) * per), i * per));
  });
  return { ...summary, data };
}
