/**
 * Numbers quoted from the SpaHGC paper (Shi et al., CVPR 2026, arXiv 2603.22821v1), for
 * placing beside what this project measures. They are never presented as measured: every row
 * built from them says `source: "quoted"` and which table it comes from.
 *
 * The paper's setting differs from ours in ways each notebook states: UNI embeddings (1024-d)
 * rather than our built-in descriptor, all 36 HER2+ sections rather than the 6 with
 * full-resolution images here, ablations on Lymph Node / Pancreas1 / Pancreas2 (HEST-1k) which
 * are not in our data, and — per the released code — the checkpoint chosen by test-slice PCC.
 */

import { METHOD_SPECS } from "../model/methods.ts";

export const PAPER = "Shi et al., CVPR 2026 (arXiv 2603.22821v1)";

/** Table 1, HER2+ column: PCC in %, RMSE, and the ± as printed. */
export const TABLE1_HER2: Record<
  string,
  { pcc: number; pccSd: number; rmse: number; rmseSd: number }
> = {
  STNet: { pcc: 5.61, pccSd: 0.016, rmse: 0.16, rmseSd: 0.003 },
  HisToGene: { pcc: 7.89, pccSd: 0.034, rmse: 0.14, rmseSd: 0.002 },
  His2ST: { pcc: 14.43, pccSd: 0.027, rmse: 0.15, rmseSd: 0.005 },
  EGGN: { pcc: 17.98, pccSd: 0.034, rmse: 0.15, rmseSd: 0.001 },
  THItoGene: { pcc: 17.26, pccSd: 0.011, rmse: 0.16, rmseSd: 0.006 },
  HGGEP: { pcc: 19.68, pccSd: 0.022, rmse: 0.13, rmseSd: 0.005 },
  BLEEP: { pcc: 18.56, pccSd: 0.012, rmse: 0.18, rmseSd: 0.002 },
  mclSTExp: { pcc: 23.15, pccSd: 0.021, rmse: 0.13, rmseSd: 0.003 },
  M2OST: { pcc: 18.24, pccSd: 0.017, rmse: 0.14, rmseSd: 0.002 },
  SpaHGC: { pcc: 27.86, pccSd: 0.028, rmse: 0.12, rmseSd: 0.001 },
};

/** A method's row name in the paper (null: not in the paper), from the method registry. */
export function paperName(method: string): string | null {
  return METHOD_SPECS.find((m) => m.name === method)?.paperName ?? null;
}

/** Datasets of the paper's ablation tables, in column order. */
export const ABLATION_DATASETS = ["Lymph Node", "Pancreas1", "Pancreas2"] as const;

type Cols = [number, number, number];
/** PCC (%) per ablation dataset, Tables 2–5. */
export const TABLE2_GRAPH: Record<string, Cols> = {
  "w/o TS": [33.68, 22.68, 39.86],
  "w/o CS": [32.58, 21.94, 39.05],
  "w/o RS": [34.58, 23.62, 40.45],
  "SpaHGC": [35.02, 24.48, 41.76],
};
export const TABLE3_ENCODER: Record<string, Cols> = {
  "ResNet18": [32.57, 20.25, 38.94],
  "DenseNet121": [33.23, 21.6, 39.21],
  "ViT-Base": [33.77, 21.62, 39.01],
  "DeiT-Base": [32.86, 21.37, 39.47],
  "Virchow": [34.04, 22.46, 40.79],
  "UNI": [35.02, 24.48, 41.76],
};
export const TABLE4_MASKING: Record<string, Cols> = {
  "none": [32.59, 22.19, 37.99],
  "random": [34.11, 23.22, 39.55],
  "complementary": [35.02, 24.48, 41.76],
};
export const TABLE5_MODULES: Record<string, Cols> = {
  "w/o CNDA": [33.68, 22.87, 39.69],
  "w/o CNAP": [34.74, 23.79, 40.76],
  "SpaHGC": [35.02, 24.48, 41.76],
};

/** Tables S3–S5: PCC (%) per ablation dataset at each value of Q, K, α, β (1…9, 0.1…0.9). */
export const TABLE_S3_Q: Record<number, Cols> = {
  1: [33.81, 22.44, 36.67],
  2: [34.56, 22.94, 40.41],
  3: [34.89, 23.62, 40.99],
  4: [34.97, 23.51, 41.21],
  5: [35.02, 24.48, 41.76],
  6: [34.78, 24.02, 41.23],
  7: [34.22, 24.26, 41.04],
  8: [34.4, 23.59, 41.26],
  9: [34.86, 23.8, 41.32],
};
export const TABLE_S4_K: Record<number, Cols> = {
  1: [33.76, 23.49, 41.19],
  2: [34.24, 23.5, 41.39],
  3: [34.33, 23.09, 41.54],
  4: [34.21, 23.51, 41.73],
  5: [34.43, 24.29, 41.76],
  6: [34.27, 24.15, 41.75],
  7: [35.02, 24.48, 41.76],
  8: [34.49, 24.05, 41.61],
  9: [34.86, 24.3, 41.59],
};
export const TABLE_S5_ALPHA: Record<number, Cols> = {
  0.1: [34.17, 23.2, 41.62],
  0.2: [34.22, 23.19, 41.33],
  0.3: [34.04, 23.0, 41.18],
  0.4: [34.08, 24.82, 41.3],
  0.5: [34.19, 23.95, 41.3],
  0.6: [34.42, 24.31, 41.03],
  0.7: [34.73, 24.01, 41.19],
  0.8: [35.02, 24.48, 41.76],
  0.9: [34.7, 23.65, 41.42],
};
export const TABLE_S5_BETA: Record<number, Cols> = {
  0.1: [34.98, 23.19, 40.89],
  0.2: [34.73, 23.17, 40.79],
  0.3: [34.82, 23.2, 40.7],
  0.4: [34.81, 23.41, 41.88],
  0.5: [34.69, 24.29, 41.66],
  0.6: [34.46, 24.28, 41.52],
  0.7: [34.33, 24.43, 41.59],
  0.8: [34.91, 24.43, 41.47],
  0.9: [35.02, 24.48, 41.76],
};

/** Table S2: SpaHGC vs every competitor on every dataset: p < 0.001 as printed. */
export const TABLE_S2_NOTE =
  "Table S2 of the paper reports p < 0.001 for SpaHGC against every competitor on every dataset; with the 6 imaged HER2+ sections here, the exact two-sided test cannot go below 2/2^6 = 0.031, and the paper's 36 slices allow 2/2^36";

/** Rows of a quoted ablation table, labelled as quoted. */
export function quotedRows(table: string, rows: Record<string | number, Cols>) {
  return Object.entries(rows).map(([setting, v]) => ({
    source: `quoted (${table})`,
    setting,
    ...Object.fromEntries(ABLATION_DATASETS.map((d, i) => [`${d} PCC %`, v[i]])),
  }));
}
