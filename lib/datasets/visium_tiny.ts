/** scanpy's 100-spot Visium test folder: for the reader's tests, not for training. */
import { readVisium } from "../io/visium.ts";
import type { DatasetSpec } from "./spec.ts";

export const VISIUM_TINY: DatasetSpec = {
  name: "visium_tiny",
  description:
    "a 100-spot 10x Visium outs/ folder from scanpy's test data (for reader tests, not training)",
  folder: "visium_tiny",
  source: "scanpy's test data (scanpy/tests/_data/visium_data/1.0.0)",
  markers: ["filtered_feature_bc_matrix.h5"],
  genes: "intersection",
  async load(dir, o) {
    const s = await readVisium(dir!, { name: "visium_tiny", log: o.log });
    return {
      name: "visium_tiny",
      slices: [s],
      provenance: {
        source: VISIUM_TINY.source,
        location: dir!,
        reader: "readVisium",
        warnings: o.log.warnings,
      },
    };
  },
};
