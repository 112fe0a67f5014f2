/**
 * AdamW as PyTorch defines it (decoupled weight decay, then the Adam step; β = (0.9, 0.999),
 * ε = 1e-8), the optimiser of the authors' code, shared by SpaHGC and the neural baselines.
 *
 * Why not `tf.train.adam` plus a decay pass: that is ~14 tensor ops per parameter tensor, each a
 * pass over memory, and on SpaHGC's 154 tensors (6.1 M values) it took ~53 ms per step on wasm —
 * a sixth of the training step once matrix products went to BLAS. On the CPU backends (wasm,
 * cpu) the update is one fused kernel (`AdamWStep`: one pass reading w, g, m, v and writing their
 * new values); on other backends the same arithmetic runs as TF.js ops.
 */
import * as tf from "@tensorflow/tfjs";
import {
  exclusiveBuffer,
  hostKernelsAvailable,
  hostView,
  registerHostKernel,
  runHostKernel,
} from "./host_kernels.ts";
import { hostThreads, nativeKernels } from "./native.ts";

export interface AdamWOptions {
  lr: number;
  weightDecay: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
}

interface StepAttrs {
  lr: number;
  weightDecay: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** 1 − β₁ᵗ and 1 − β₂ᵗ (bias corrections of step t). */
  bc1: number;
  bc2: number;
}

/** The fused update on the CPU backends: one pass reading w, g, m, v and writing their successors. */
registerHostKernel("AdamWStep", ({ inputs, view, alloc }, a: StepAttrs) => {
  const { w, g, m, v } = inputs;
  const outs = [w, m, v].map((t) => alloc(t.shape, false));
  const [W, G, M, V] = [w, g, m, v].map(view);
  const [W2, M2, V2] = outs.map(view);
  const decay = 1 - a.lr * a.weightDecay, step = a.lr / a.bc1, root = 1 / Math.sqrt(a.bc2);
  const b1 = a.beta1, b2 = a.beta2, c1 = 1 - b1, c2 = 1 - b2, eps = a.eps;
  const c = nativeKernels();
  if (c) {
    c.adamw_step(W.length, W, G, M, V, W2, M2, V2, decay, step, root, b1, b2, eps);
    return outs;
  }
  for (let i = 0; i < W.length; i++) {
    const gi = G[i];
    const mi = b1 * M[i] + c1 * gi, vi = b2 * V[i] + c2 * gi * gi;
    M2[i] = mi;
    V2[i] = vi;
    W2[i] = W[i] * decay - (step * mi) / (Math.sqrt(vi) * root + eps);
  }
  return outs;
});

const address = (x: Float32Array) =>
  BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(x as Float32Array<ArrayBuffer>)));

/** The same update as TF.js ops (any backend). */
function stepOps(w: tf.Tensor, g: tf.Tensor, m: tf.Tensor, v: tf.Tensor, a: StepAttrs) {
  const m2 = tf.add(tf.mul(m, a.beta1), tf.mul(g, 1 - a.beta1));
  const v2 = tf.add(tf.mul(v, a.beta2), tf.mul(tf.square(g), 1 - a.beta2));
  const denom = tf.add(tf.div(tf.sqrt(v2), Math.sqrt(a.bc2)), a.eps);
  const w2 = tf.sub(tf.mul(w, 1 - a.lr * a.weightDecay), tf.div(tf.mul(m2, a.lr / a.bc1), denom));
  return [w2, m2, v2];
}

/** AdamW over named variables; its state (moments, step) can be saved and restored by name. */
export class AdamW {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  private m = new Map<string, tf.Tensor>();
  private v = new Map<string, tf.Tensor>();
  step = 0;

  constructor(private readonly vars: Map<string, tf.Variable>, readonly o: AdamWOptions) {
    this.beta1 = o.beta1 ?? 0.9;
    this.beta2 = o.beta2 ?? 0.999;
    this.eps = o.eps ?? 1e-8;
  }

  /**
   * One update from gradients keyed by the variables' TF.js names (as `tf.variableGrads`
   * returns them). A variable the loss does not reach has no gradient and is left untouched
   * (no decay either), as PyTorch skips parameters whose `.grad` is None.
   */
  apply(grads: tf.NamedTensorMap): void {
    this.step++;
    const attrs: StepAttrs = {
      lr: this.o.lr,
      weightDecay: this.o.weightDecay,
      beta1: this.beta1,
      beta2: this.beta2,
      eps: this.eps,
      bc1: 1 - this.beta1 ** this.step,
      bc2: 1 - this.beta2 ** this.step,
    };
    const fused = hostKernelsAvailable();
    if (fused && nativeKernels() && this.applyInPlace(grads, attrs)) return;
    for (const [name, w] of this.vars) {
      tf.tidy(() => {
        const g = grads[w.name];
        if (!g) return;
        const m = this.m.get(name) ?? tf.zerosLike(w), v = this.v.get(name) ?? tf.zerosLike(w);
        const [w2, m2, v2] = fused
          ? runHostKernel("AdamWStep", { w, g, m, v }, attrs)
          : stepOps(w, g, m, v, attrs);
        w.assign(w2);
        this.m.get(name)?.dispose();
        this.v.get(name)?.dispose();
        this.m.set(name, tf.keep(m2));
        this.v.set(name, tf.keep(v2));
      });
    }
  }

  /**
   * The same update as one C call over every variable, writing weights and moments in their own
   * buffers: per variable, the out-of-place kernel allocated three tensors and disposed three, and
   * that bookkeeping cost as much as the arithmetic (35 vs 18 ms a step for SpaHGC's 5.1 M
   * parameters). Done only when every buffer involved belongs to its tensor alone (see
   * `exclusiveBuffer`); returns false, having changed nothing, otherwise.
   */
  private applyInPlace(grads: tf.NamedTensorMap, a: StepAttrs): boolean {
    const todo: { w: tf.Variable; g: tf.Tensor; m: tf.Tensor; v: tf.Tensor }[] = [];
    for (const [name, w] of this.vars) {
      const g = grads[w.name];
      if (!g) continue;
      // Fresh moments first: every allocation precedes the views taken below.
      if (!this.m.has(name)) this.m.set(name, tf.keep(tf.zerosLike(w)));
      if (!this.v.has(name)) this.v.set(name, tf.keep(tf.zerosLike(w)));
      todo.push({ w, g, m: this.m.get(name)!, v: this.v.get(name)! });
    }
    const sizes = new Int32Array(todo.length), ptrs = new BigUint64Array(4 * todo.length);
    for (let i = 0; i < todo.length; i++) {
      const { w, g, m, v } = todo[i];
      const views = [exclusiveBuffer(w), hostView(g), exclusiveBuffer(m), exclusiveBuffer(v)];
      if (views.some((x) => !x)) return false;
      sizes[i] = w.size;
      views.forEach((x, k) => (ptrs[4 * i + k] = address(x!)));
    }
    const decay = 1 - a.lr * a.weightDecay, step = a.lr / a.bc1, root = 1 / Math.sqrt(a.bc2);
    nativeKernels()!.adamw_many(
      todo.length,
      sizes,
      ptrs,
      decay,
      step,
      root,
      a.beta1,
      a.beta2,
      a.eps,
      hostThreads(),
    );
    return true;
  }

  /** Moments and step as named arrays (`m:<name>`, `v:<name>`, `step`), for checkpoints. */
  async state(): Promise<{ name: string; shape: number[]; data: Float32Array }[]> {
    const out = [{ name: "step", shape: [1], data: Float32Array.of(this.step) }];
    for (const [kind, map] of [["m", this.m], ["v", this.v]] as const) {
      for (const [name, t] of map) {
        out.push({
          name: `${kind}:${name}`,
          shape: t.shape,
          data: (await t.data()) as Float32Array<ArrayBuffer>,
        });
      }
    }
    return out;
  }

  restore(entries: { name: string; shape: number[]; data: Float32Array }[]): void {
    for (const { name, shape, data } of entries) {
      if (name === "step") {
        this.step = data[0];
        continue;
      }
      const kind = name.slice(0, 2), key = name.slice(2);
      const map = kind === "m:" ? this.m : kind === "v:" ? this.v : undefined;
      if (!map || !this.vars.has(key)) {
        throw new Error(
          `optimiser state '${name}' does not match this model (a checkpoint written by another ` +
            `version? delete it to start the fold afresh)`,
        );
      }
      map.get(key)?.dispose();
      map.set(key, tf.keep(tf.tensor(data, shape)));
    }
  }

  dispose(): void {
    for (const t of [...this.m.values(), ...this.v.values()]) t.dispose();
    this.m.clear();
    this.v.clear();
  }
}
