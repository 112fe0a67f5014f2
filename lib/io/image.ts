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

/** A decoded image plus what had to be fixed up to make it 8-bit sRGB with 3 channels. */
export interface DecodedImage extends RgbImage {
  /** Colour-space fix-ups applied (grayscale → RGB, CMYK → sRGB, alpha dropped, 16-bit → 8-bit). */
  fixups: string[];
}

/**
 * Decodes a slice's image once to 8-bit sRGB RGB pixels, optionally downscaled by `factor` ≤ 1
 * (JPEG decoding then uses libjpeg's DCT scaling, several times faster than full decoding).
 * Grayscale, CMYK, alpha and 16-bit images are converted, and each conversion is reported.
 */
export async function decodeImage(img: SliceImage, factor = 1): Promise<DecodedImage> {
  if (!(factor > 0 && factor <= 1)) {
    throw new RangeError(`decode factor ${factor} must be in (0, 1]`);
  }
  const fixups: string[] = [];
  let input: ReturnType<typeof sharp>;
  let width: number;
  if (img.pixels) {
    if (factor === 1) return { ...img.pixels, fixups };
    input = sharp(img.pixels.data, {
      raw: { width: img.pixels.width, height: img.pixels.height, channels: 3 },
    });
    width = img.pixels.width;
  } else {
    const size = await imageSize(img);
    width = size.width;
    input = sharp(img.path!, OPEN);
    const meta = await input.metadata();
    if (meta.channels === 1 || meta.channels === 2 || meta.space === "b-w") {
      fixups.push("grayscale converted to RGB");
    }
    if (meta.space === "cmyk") fixups.push("CMYK converted to sRGB");
    if (meta.hasAlpha) fixups.push("alpha channel dropped");
    if (meta.depth && meta.depth !== "uchar") {
      fixups.push(`${meta.depth} samples converted to 8-bit`);
    }
  }
  try {
    let pipeline = input.toColourspace("srgb").removeAlpha();
    if (factor < 1) {
      pipeline = pipeline.resize({
        width: Math.max(1, Math.round(width * factor)),
        fastShrinkOnLoad: true,
      });
    }
    const { data, info } = await pipeline.raw({ depth: "uchar" }).toBuffer({
      resolveWithObject: true,
    });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels`);
    return {
      width: info.width,
      height: info.height,
      data: new Uint8Array(data.buffer, data.byteOffset, data.length),
      fixups,
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

/**
 * A small JPEG of a slice's image as a data URI, for drawing spots on the tissue: longest side
 * at most `maxSide` px; undefined for a slice whose image is patches only. `width`/`height` are the image's extent in the slice's pixel-coordinate
 * frame (so plots place it under spots without rescaling the coordinates).
 */
export async function thumbnailDataUri(
  img: SliceImage,
  maxSide = 900,
): Promise<{ source: string; width: number; height: number } | undefined> {
  // A slice with patches only (a HEST-Benchmark task) has no image to draw under its spots.
  if (!img.path && !img.pixels) return undefined;
  const { width, height } = await imageSize(img);
  const factor = Math.min(1, maxSide / Math.max(width, height));
  const small = await decodeImage(img, factor);
  const jpeg = await sharp(small.data, {
    raw: { width: small.width, height: small.height, channels: 3 },
  }).jpeg({ quality: 80 }).toBuffer();
  return {
    source: `data:image/jpeg;base64,${jpeg.toString("base64")}`,
    width: width / img.scale,
    height: height / img.scale,
  };
}
