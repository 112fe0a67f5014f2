/**
 * Cross-validation folds. Leave-one-slice-out: each slice is the test slice once.
 * Leave-one-patient-out: all slices of one patient are held out together, so neither the model
 * nor the reference bank sees a neighbouring section of the test tumour (evaluation.md).
 */
import { DataError } from "../errors.ts";

/** `dataset`: the folds the dataset comes with (a benchmark's own splits). */
export type Split = "slice" | "patient" | "dataset";

/** Every split, for option parsers. */
export const SPLITS: readonly Split[] = ["slice", "patient", "dataset"];

export interface Fold {
  /** The held-out slice's name (slice split) or patient id (patient split). */
  name: string;
  test: string[];
  train: string[];
}

export function makeFolds(
  slices: { name: string; patient: string }[],
  split: Split,
  given?: Fold[],
): Fold[] {
  if (slices.length < 2) {
    throw new DataError(`cross-validation needs at least 2 slices, got ${slices.length}`);
  }
  if (split === "dataset") {
    if (!given?.length) {
      throw new DataError(
        "split 'dataset' needs folds that come with the data (a HEST-Benchmark task's splits/); this dataset has none: use --split slice or patient",
      );
    }
    const have = new Set(slices.map((s) => s.name));
    // Folds keep only the slices taking part; a fold left without a test or training slice goes.
    return given.map((f) => ({
      name: f.name,
      test: f.test.filter((t) => have.has(t)),
      train: f.train.filter((t) => have.has(t)),
    })).filter((f) => f.test.length && f.train.length);
  }
  if (split === "slice") {
    return slices.map((s) => ({
      name: s.name,
      test: [s.name],
      train: slices.filter((t) => t !== s).map((t) => t.name),
    }));
  }
  const patients = [...new Set(slices.map((s) => s.patient))];
  if (patients.length < 2) {
    throw new DataError(
      `leave-one-patient-out needs slices of at least 2 patients, got ${patients.join(", ")}`,
    );
  }
  return patients.map((p) => ({
    name: p,
    test: slices.filter((s) => s.patient === p).map((s) => s.name),
    train: slices.filter((s) => s.patient !== p).map((s) => s.name),
  }));
}
