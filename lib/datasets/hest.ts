/**
 * HEST-1k (Jaume et al., NeurIPS 2024) and the paper's three cohorts from it. The released
 * SpaHGC builds them by filtering HEST's metadata CSV (`dataset.py`): Lymph Node = organ
 * 'Lymph node', not healthy; Pancreas1/2 = organ 'Pancreas', not healthy, Xenium or Visium. Its
 * genes: the intersection over samples of each sample's 1000 seurat_v3 HVGs.
 *
 * All four read one HEST root (`DATA_DIR/hest`, or any folder given as a path, with the same
 * filters written as a query: `PATH?organ=Lymph node&disease_state!=Healthy`).
 */
import { DataError } from "../errors.ts";
import { type HestFilter, readHest } from "../io/hest.ts";
import type { DatasetSpec } from "./spec.ts";

/** How a HEST user gets the data (said wherever it is missing). */
export const HEST_SOURCE =
  "Hugging Face dataset MahmoodLab/hest (gated: accept its terms at https://huggingface.co/datasets/MahmoodLab/hest, " +
  "then `huggingface-cli login`), downloaded with huggingface_hub as the hest library's tutorial does: " +
  `python3 -c "from huggingface_hub import snapshot_download; snapshot_download(repo_id='MahmoodLab/hest', repo_type='dataset', local_dir='DATA_DIR/hest', allow_patterns=[f'*{i}[_.]**' for i in ['TENX95', 'TENX99']])" ` +
  "(the ids you want; HEST_v1_1_0.csv in the same repository lists them with organ, disease state and technology). " +
  "The folder then holds st/, metadata/, wsis/ and patches/";

/** The genes the released code uses on HEST cohorts. */
const HEST_GENES = { flavor: "seurat_v3", nTop: 1000 } as const;

const notHealthy: HestFilter = { field: "disease_state", op: "!=", values: ["Healthy"] };

function cohort(
  name: string,
  description: string,
  where: HestFilter[],
  paperName?: string,
): DatasetSpec {
  return {
    name,
    description,
    folder: "hest",
    source: HEST_SOURCE,
    markers: ["st", "metadata"],
    genes: "intersection",
    geneParams: HEST_GENES,
    studyNote: `${
      paperName ?? description
    }: HEST-1k samples selected as the released SpaHGC does (${
      where.map((f) => `${f.field} ${f.op} ${f.values.join("/")}`).join(", ") || "all"
    }), genes = intersection of per-sample seurat_v3 top-1000 HVGs`,
    load: (dir, o) => readHest(dir!, { where, log: o.log, name, only: o.slices }),
    // Gated on Hugging Face (a token and accepted terms): say exactly what to run instead.
    fetch: (target) =>
      Promise.reject(
        new DataError(
          `HEST-1k cannot be fetched from here. Obtain it: ${
            HEST_SOURCE.replaceAll("DATA_DIR/hest", target)
          }`,
        ),
      ),
  };
}

export const HEST: DatasetSpec = cohort("hest", "HEST-1k, every sample of the root", []);
export const HEST_LYMPH_NODE = cohort(
  "hest-lymph-node",
  "HEST-1k lymph node, not healthy (the paper's Lymph Node)",
  [{ field: "organ", op: "=", values: ["Lymph node"] }, notHealthy],
  "Lymph Node (HEST-1k)",
);
export const HEST_PANCREAS_XENIUM = cohort(
  "hest-pancreas-xenium",
  "HEST-1k pancreas, not healthy, Xenium pseudo-spots (the paper's Pancreas, Xenium)",
  [{ field: "organ", op: "=", values: ["Pancreas"] }, notHealthy, {
    field: "st_technology",
    op: "=",
    values: ["Xenium"],
  }],
);
export const HEST_PANCREAS_VISIUM = cohort(
  "hest-pancreas-visium",
  "HEST-1k pancreas, not healthy, Visium (the paper's Pancreas, Visium)",
  [{ field: "organ", op: "=", values: ["Pancreas"] }, notHealthy, {
    field: "st_technology",
    op: "=",
    values: ["Visium"],
  }],
);
