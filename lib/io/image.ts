/** Image access through sharp (libvips): open checks, sizes, PNG export of in-memory pixels. */
import sharp from "sharp";
import { DataError } from "../errors.ts";
import type { RgbImage, SliceImage } from "../data/slice.ts";
import { exists } from "./files.ts";

// Whole-slide H&E JPEGs are ~9000×10000 px; sharp's default pixel limit would refuse larger scans.
sharp.cache(false);
const OPEN = { limitInputPixels: false } as const;

/** Width and height of a slice's image; a DataError naming the file if it is missing or unreadable. */
export async function imageSize(img: SliceImage): Promise<{ width: number; height: number }> {
  if (img.pixels) return { width: img.pixels.width, height: img.pixels.height };
  if (!img.path) throw new DataError("slice image has neither a path nor pixels");
  if (!exists(img.path)) throw new DataError("image file not found", { file: img.path });
  try {
    const meta = await sharp(img.path, OPEN).metadata();
    if (!meta.width || !meta.height) throw new Error("no dimensions in header");
    return { width: meta.width, height: meta.height };
  } catch (e) {
    throw new DataError(`image does not open (expected JPEG/PNG/TIFF): ${(e as Error).message}`, {
      file: img.path,
    });
  }
}

/** Decodes a slice's image to RGB pixels (optionally downscaled by `factor` ≤ 1). */
export async function decodeImage(img: SliceImage, factor = 1): Promise<RgbImage> {
  if (img.pixels && factor === 1) return img.pixels;
  const { width } = await imageSize(img);
  const input = img.pixels
    ? sharp(img.pixels.data, {
      raw: { width: img.pixels.width, height: img.pixels.height, channels: 3 },
    })
    : sharp(img.path!, OPEN);
  try {
    const { data, info } = await input.removeAlpha().resize({
      width: Math.max(1, Math.round(width * factor)),
    }).raw()
      .toBuffer({ resolveWithObject: true });
    return {
      width: info.width,
      height: info.height,
      data: new Uint8Array(data.buffer, data.byteOffset, data.length),
    };
  } catch (e) {
    throw new DataError(`image does not decode: ${(e as Error).message}`, { file: img.path });
  }
}

/** Encodes RGB pixels as PNG bytes. */
export async function encodePng(img: RgbImage): Promise<Uint8Array> {
  const buf = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .png().toBuffer();
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
}
