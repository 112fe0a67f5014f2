/** `spahgc data export-hest`. */
import { WarningLog } from "../../errors.ts";
import { loadDataset } from "../../datasets/registry.ts";
import { writeHest } from "../../datasets/hest_export.ts";
import { type Command, json } from "../command.ts";
import { ANNDATA_OPTIONS, annDataOptions } from "../shared_options.ts";
import { UsageError } from "../options.ts";

export const dataExportHestCommand: Command = {
  usage:
    "spahgc data export-hest <dataset> --out ROOT [--slices A,B] [--pixel-size UM] [--compression jpeg|lzw|deflate] [--no-patches] [--json]",
  summary:
    "write a dataset in HEST-1k's layout (st/, metadata/, wsis/ tiled pyramidal TIFF, patches/ at 0.5 µm/px)",
  options: {
    ...ANNDATA_OPTIONS,
    out: { type: "string", help: "the HEST root to write (created)" },
    slices: { type: "string", help: "comma-separated subset of slices" },
    "pixel-size": {
      type: "number",
      help:
        "µm per full-resolution pixel (default: the 224-px patch area taken as 112 µm, 0.5 µm/px)",
    },
    compression: {
      type: "string",
      choices: ["jpeg", "lzw", "deflate"],
      help: "WSI compression: jpeg (default, quality 90), lzw or deflate (lossless)",
    },
    "no-patches": { type: "boolean", help: "do not write patches/<id>.h5" },
    "data-dir": { type: "string", help: "data directory" },
    json: { type: "boolean", help: "one JSON object on stdout" },
  },
  async run(v) {
    const [name] = v.positionals;
    if (!name) throw new UsageError("missing <dataset>");
    const out = v.str("out");
    if (!out) throw new UsageError("missing --out ROOT");
    const ds = await loadDataset(name, {
      dataDir: v.str("data-dir"),
      anndata: annDataOptions(v),
      slices: v.list("slices"),
      log: new WarningLog(true),
    });
    const um = v.has("pixel-size") ? Number(v.str("pixel-size")) : undefined;
    if (um !== undefined && !(um > 0)) throw new UsageError("--pixel-size: expected µm > 0");
    const written = await writeHest(ds, out, {
      pixelSizeUm: um,
      patches: !v.flag("no-patches"),
      compression: v.choice("compression", ["jpeg", "lzw", "deflate"] as const, "jpeg"),
    });
    if (v.flag("json")) json({ root: out, samples: written });
    else {
      for (const w of written) {
        console.log(`${w.id}: ${w.files.length} files, ${w.pixelSizeUm} µm/px`);
      }
      console.log(`wrote ${written.length} samples to ${out}`);
    }
    return 0;
  },
};
