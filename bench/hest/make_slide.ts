/**
 * Writes a large synthetic whole-slide image: a 2048-px crop of HER2+ B4's H&E tiled over
 * SIDE × SIDE px, as a tiled pyramidal JPEG BigTIFF (libvips streams it; never decoded whole).
 * Args: OUT.tif SIDE.
 */
import sharp from "sharp";
import { join } from "node:path";
import { DATASETS, resolveDatasetDir } from "../../lib/mod.ts";

const [out, sideArg] = Deno.args;
const side = Number(sideArg ?? 50000);
const dir = join(
  resolveDatasetDir(DATASETS.find((d) => d.name === "her2st")!),
  "ST-imgs",
  "B",
  "B4",
);
const jpeg = [...Deno.readDirSync(dir)].find((e) => e.name.endsWith(".jpg"))!.name;
const crop = await sharp(join(dir, jpeg), { limitInputPixels: false })
  .extract({ left: 3000, top: 3000, width: 2048, height: 2048 }).raw().toBuffer();
await sharp({
  create: { width: side, height: side, channels: 3, background: "#ffffff" },
  limitInputPixels: false,
})
  .composite([{ input: crop, raw: { width: 2048, height: 2048, channels: 3 }, tile: true }])
  .tiff({
    tile: true,
    tileWidth: 256,
    tileHeight: 256,
    pyramid: true,
    compression: "jpeg",
    quality: 85,
    bigtiff: true,
  })
  .toFile(`${out}.partial`);
Deno.renameSync(`${out}.partial`, out);
