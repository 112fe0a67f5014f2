/**
 * What every method is to the cross-validation runner: fitted on a fold's training slices, it
 * returns a predictor for the test slices. The types sit below both the methods (`model/`) and
 * the runner (`train/`), so neither imports the other for them.
 */
import type { Slice } from "../data/slice.ts";

/** A slice ready for a method: features, targets and the slice itself. */
export interface PreparedSlice {
  name: string;
  patient: string;
  n: number;
  /** n × dim embeddings. */
  x: Float32Array;
  /** n × G targets. */
  y: Float32Array;
  slice: Slice;
}

export interface Predictor {
  predict(s: PreparedSlice): Float32Array | Promise<Float32Array>;
  /** What was chosen on the training slices (λ, epoch, …), for the report. */
  selection?: Record<string, unknown>;
  /** Frees what the predictor holds (model weights on the backend). */
  dispose?(): void;
}

export interface Method {
  name: string;
  params: Record<string, unknown>;
  /**
   * Fits on the training slices. `peek` is given only in the labelled test-set-selection mode
   * (`CvOptions.testSetSelection`, the released code's protocol): the fold's test slices, for
   * choosing the epoch — never for fitting.
   */
  fit(
    train: PreparedSlice[],
    dim: number,
    nGenes: number,
    peek?: PreparedSlice[],
  ): Promise<Predictor> | Predictor;
}
