/**
 * The epoch-selection rule, the leak-sensitive part of every trained method, written once
 * (evaluation.md: no test-set model selection):
 * - `validation`: the last training slice by name is held out from fitting and the epoch with
 *   the best PCC on it is kept (with fewer than 3 training slices nothing can be spared: last
 *   epoch);
 * - `fixed`: all training slices are fitted and the last epoch is kept;
 * - `test-set`: the released code's protocol, the best epoch on the fold's test slice. Only for
 *   measuring what that inflates; the runner has to be asked for it (`testSetSelection`) and
 *   every report made with it says so.
 */
export const SELECTIONS = ["validation", "fixed", "test-set"] as const;
export type Selection = (typeof SELECTIONS)[number];

/** What a method fits on and what it chooses the epoch on. */
export interface HeldOut<T> {
  /** Slices the weights are fitted on. */
  fit: T[];
  /** The slice the epoch is chosen on: a training slice, the test slice (test-set) or none. */
  validation?: T;
  /** True when `validation` is the fold's test slice. */
  testSet: boolean;
}

/**
 * Splits a fold's training slices by the selection rule. `peek` is the fold's first test slice,
 * prepared as the method prepares its training slices; the runner gives the test slices only in
 * test-set mode, and a method passes it on only then.
 *
 * @example
 * ```ts
 * const { fit, validation } = holdOut([{ name: "A" }, { name: "C" }, { name: "B" }], "validation");
 * // validation: C (the last by name), fit: A, B
 * ```
 */
export function holdOut<T extends { name: string }>(
  train: T[],
  selection: Selection,
  peek?: T,
): HeldOut<T> {
  if (selection === "test-set") {
    if (!peek) throw new Error("selection 'test-set' needs the runner's testSetSelection mode");
    return { fit: train, validation: peek, testSet: true };
  }
  if (selection === "validation" && train.length >= 3) {
    const last = [...train].sort((a, b) => a.name.localeCompare(b.name)).at(-1)!;
    return { fit: train.filter((t) => t !== last), validation: last, testSet: false };
  }
  return { fit: train, testSet: false };
}

/**
 * The best epoch so far by validation PCC. `offer` says whether this epoch is the new best
 * (the caller then keeps its weights); ties keep the earlier epoch.
 */
export class EpochSelector {
  best: { epoch: number; pcc: number };
  constructor(readonly epochs: number, best?: { epoch: number; pcc: number }) {
    this.best = best ?? { epoch: 0, pcc: -Infinity };
  }
  offer(epoch: number, pcc: number): boolean {
    if (!(pcc > this.best.pcc)) return false;
    this.best = { epoch, pcc };
    return true;
  }
  /** The fields every trained method reports about its choice. */
  report(h: HeldOut<{ name: string }>): {
    epochs: number;
    bestEpoch: number;
    validationSlice: string | null;
    testSetSelection: boolean;
    validationPcc: number | null;
  } {
    const v = h.validation !== undefined;
    return {
      epochs: this.epochs,
      bestEpoch: v ? this.best.epoch : this.epochs,
      validationSlice: h.validation?.name ?? null,
      testSetSelection: h.testSet,
      validationPcc: v ? this.best.pcc : null,
    };
  }
}
