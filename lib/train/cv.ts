/**
 * Cross-validation folds. Leave-one-slice-out: each slice is the test slice once.
 * Leave-one-patient-out: all slices of one patient are held out together, so neither the model
 * nor the reference bank sees a neighbouring section of the test tumour (evaluation.md).
 */
import { DataError } from "../errors.ts";

export type Split = "slice" | "patient";

export interface Fold {
  /** The held-out slice's name (slice split) or patient id (patient split). */
  name: string;
  test: string[];
  train: string[];
}

export function makeFolds(slices: { name: string; patient: string }[], split: Split): Fold[] {
  if (slices.length < 2) {
    throw new DataError(`cross-validation needs at least 2 slices, got ${slices.length}`);
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
