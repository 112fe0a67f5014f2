/**
 * Message passing as one fused kernel on the CPU backends: for every destination node, gather
 * its sources' rows → score them (scaled dot product + LeakyReLU, or uniform for a mean) →
 * softmax over the node's edges → dropout → weighted sum; and the exact backward pass.
 *
 * Relations are held as CSR (each destination's sources, contiguous), so a fixed-degree
 * neighbourhood with empty slots and a reversed relation whose degrees range from 1 to > 100
 * cost only their real edges. `layers.ts` calls this on cpu/wasm and keeps the same
 * computation as TF.js ops for the other backends; tests hold the two to each other.
 *
 * Why hand-written: the TF.js-op version of one attention is ~30 ops (gathers, reshapes,
 * transposes, a masked softmax, segment sums) and their gradients; at SpaHGC's sizes it took
 * 7.2 ms forward + backward per call, about a third of a training epoch in all. On `wasm-blas`
 * the same loops run as C compiled for the CPU (`native/kernels.c`; 0.25 → 0.06 s per epoch).
 */
import * as tf from "@tensorflow/tfjs";
import { registerHostKernel, runHostKernel } from "./host_kernels.ts";
import { nativeKernels } from "./native.ts";
import { dropoutMask } from "./dropout.ts";

/** A relation in compressed sparse rows: destination i's sources are sources[offsets[i]..offsets[i+1]). */
export interface Csr {
  offsets: Int32Array;
  sources: Int32Array;
  nDst: number;
  maxDegree: number;
}

/** CSR of a fixed-degree index matrix (row i lists its sources; −1 = empty slot). */
export function csrFromRows(index: Int32Array, degree: number): Csr {
  const nDst = degree ? index.length / degree : 0;
  const offsets = new Int32Array(nDst + 1), sources: number[] = [];
  let maxDegree = 0;
  for (let i = 0; i < nDst; i++) {
    for (let j = 0; j < degree; j++) {
      const s = index[i * degree + j];
      if (s >= 0) sources.push(s);
    }
    offsets[i + 1] = sources.length;
    maxDegree = Math.max(maxDegree, offsets[i + 1] - offsets[i]);
  }
  return { offsets, sources: Int32Array.from(sources), nDst, maxDegree };
}

/** CSR of the reverse of a fixed-degree relation: each source row becomes a destination. */
export function csrReversed(index: Int32Array, degree: number, nSource: number): Csr {
  const count = new Int32Array(nSource + 1);
  for (const s of index) if (s >= 0) count[s + 1]++;
  for (let i = 0; i < nSource; i++) count[i + 1] += count[i];
  const offsets = Int32Array.from(count), fill = Int32Array.from(count);
  const sources = new Int32Array(offsets[nSource]);
  let maxDegree = 0;
  for (let e = 0; e < index.length; e++) {
    const s = index[e];
    if (s >= 0) sources[fill[s]++] = Math.floor(e / degree);
  }
  for (let i = 0; i < nSource; i++) maxDegree = Math.max(maxDegree, offsets[i + 1] - offsets[i]);
  return { offsets, sources, nDst: nSource, maxDegree };
}

interface Attrs {
  csr: Csr;
  heads: number;
}

interface MeanAttrs {
  csr: Csr;
  /** Rows of the output: nDst forward, nSrc backward. */
  rows: number;
  backward: boolean;
}

const SLOPE = 0.2;

/**
 * The mean over each destination's sources (forward: source rows → destinations) and its
 * transpose (backward: destination gradients → sources), one loop for both.
 */
registerHostKernel("CsrMean", ({ inputs, view, alloc }, { csr, rows, backward }: MeanAttrs) => {
  const F = inputs.x.shape[1];
  const out = alloc([rows, F]);
  const X = view(inputs.x), O = view(out);
  const { offsets, sources } = csr;
  const c = nativeKernels();
  if (c) {
    c.csr_mean(csr.nDst, F, offsets, sources, X, O, backward ? 1 : 0);
    return out;
  }
  for (let i = 0; i < csr.nDst; i++) {
    const e0 = offsets[i], e1 = offsets[i + 1], dst = i * F;
    const w = 1 / (e1 - e0);
    for (let e = e0; e < e1; e++) {
      const src = sources[e] * F;
      const from = backward ? dst : src, to = backward ? src : dst;
      for (let j = 0; j < F; j++) O[to + j] += w * X[from + j];
    }
  }
  return out;
});

/**
 * Forward attention. Outputs: the result [nDst, W], the softmax weights [E, H] before dropout,
 * and the scores before LeakyReLU [E, H] (both for the backward pass).
 */
registerHostKernel("CsrAttention", ({ inputs, view, alloc }, { csr, heads }: Attrs) => {
  const W = inputs.q.shape[1], dh = W / heads, E = csr.sources.length;
  const out = alloc([csr.nDst, W]), attn = alloc([E, heads], false), pre = alloc([E, heads], false);
  const Q = view(inputs.q), K = view(inputs.k), V = view(inputs.v);
  const DROP = inputs.drop ? view(inputs.drop) : undefined;
  const O = view(out), A = view(attn), Z = view(pre);
  const scale = 1 / Math.sqrt(dh);
  const { offsets, sources } = csr;
  const c = nativeKernels();
  if (c) {
    c.csr_attention(
      csr.nDst,
      heads,
      dh,
      offsets,
      sources,
      Q,
      K,
      V,
      DROP ?? A,
      DROP ? 1 : 0,
      O,
      A,
      Z,
    );
    return [out, attn, pre];
  }
  for (let i = 0; i < csr.nDst; i++) {
    const e0 = offsets[i], e1 = offsets[i + 1];
    for (let h = 0; h < heads; h++) {
      const qo = i * W + h * dh;
      let max = -Infinity;
      for (let e = e0; e < e1; e++) {
        const ko = sources[e] * W + h * dh;
        let dot = 0;
        for (let j = 0; j < dh; j++) dot += Q[qo + j] * K[ko + j];
        const z = dot * scale, a = z > 0 ? z : SLOPE * z;
        Z[e * heads + h] = z;
        A[e * heads + h] = a;
        if (a > max) max = a;
      }
      let sum = 0;
      for (let e = e0; e < e1; e++) {
        const x = Math.exp(A[e * heads + h] - max);
        A[e * heads + h] = x;
        sum += x;
      }
      for (let e = e0; e < e1; e++) {
        const a = (A[e * heads + h] /= sum);
        const w = DROP ? a * DROP[e * heads + h] : a;
        if (w === 0) continue;
        const vo = sources[e] * W + h * dh;
        for (let j = 0; j < dh; j++) O[qo + j] += w * V[vo + j];
      }
    }
  }
  return [out, attn, pre];
});

registerHostKernel("CsrAttentionGrad", ({ inputs, view, alloc }, { csr, heads }: Attrs) => {
  const W = inputs.q.shape[1], dh = W / heads;
  const dq = alloc(inputs.q.shape), dk = alloc(inputs.k.shape), dv = alloc(inputs.v.shape);
  const DY = view(inputs.dy), Q = view(inputs.q), K = view(inputs.k), V = view(inputs.v);
  const A = view(inputs.attn), Z = view(inputs.pre);
  const DROP = inputs.drop ? view(inputs.drop) : undefined;
  const DQ = view(dq), DK = view(dk), DV = view(dv);
  const scale = 1 / Math.sqrt(dh);
  const { offsets, sources } = csr;
  const c = nativeKernels();
  if (c) {
    const scratch = new Float32Array(Math.max(1, csr.maxDegree));
    const d = DROP ?? A, has = DROP ? 1 : 0;
    c.csr_attention_grad(
      csr.nDst,
      heads,
      dh,
      offsets,
      sources,
      DY,
      Q,
      K,
      V,
      A,
      Z,
      d,
      has,
      DQ,
      DK,
      DV,
      scratch,
    );
    return [dq, dk, dv];
  }
  const da = new Float64Array(csr.maxDegree);
  for (let i = 0; i < csr.nDst; i++) {
    const e0 = offsets[i], e1 = offsets[i + 1];
    for (let h = 0; h < heads; h++) {
      const qo = i * W + h * dh;
      // out = Σ a·drop·v: gradients into v and into the softmax weights.
      let weighted = 0;
      for (let e = e0; e < e1; e++) {
        const a = A[e * heads + h], drop = DROP ? DROP[e * heads + h] : 1;
        const vo = sources[e] * W + h * dh;
        let g = 0;
        for (let j = 0; j < dh; j++) {
          g += DY[qo + j] * V[vo + j];
          DV[vo + j] += a * drop * DY[qo + j];
        }
        da[e - e0] = g * drop;
        weighted += a * da[e - e0];
      }
      // Softmax, then LeakyReLU, then the scaled dot product.
      for (let e = e0; e < e1; e++) {
        const ds = A[e * heads + h] * (da[e - e0] - weighted);
        const dz = ds * (Z[e * heads + h] > 0 ? 1 : SLOPE) * scale;
        if (dz === 0) continue;
        const ko = sources[e] * W + h * dh;
        for (let j = 0; j < dh; j++) {
          DQ[qo + j] += dz * K[ko + j];
          DK[ko + j] += dz * Q[qo + j];
        }
      }
    }
  }
  return [dq, dk, dv];
});

/** Mean of each destination's source rows of x ([nSrc, F] → [nDst, F]); no sources → 0. */
export function csrMean(x: tf.Tensor2D, csr: Csr): tf.Tensor2D {
  const nSrc = x.shape[0];
  const pass = (t: tf.Tensor, backward: boolean) =>
    runHostKernel("CsrMean", { x: t }, { csr, rows: backward ? nSrc : csr.nDst, backward })[0];
  return tf.customGrad((v, _save) => ({
    value: pass(v as tf.Tensor, false),
    gradFunc: (dy) => pass(dy as tf.Tensor, true),
  }))(x) as tf.Tensor2D;
}

/**
 * Multi-head attention of each destination over its sources: score = LeakyReLU(q·k/√d_head),
 * softmax over the destination's edges, dropout, Σ attn·v. q: [nDst, H·dh]; k, v: [nSrc, H·dh].
 */
export function csrAttention(
  q: tf.Tensor2D,
  k: tf.Tensor2D,
  v: tf.Tensor2D,
  csr: Csr,
  heads: number,
  attnDropout: number,
  seed: number | undefined,
): tf.Tensor2D {
  if (q.shape[1] % heads || k.shape[1] !== q.shape[1] || v.shape[1] !== q.shape[1]) {
    throw new Error(
      `attention: widths q ${q.shape[1]}, k ${k.shape[1]}, v ${v.shape[1]}, ${heads} heads`,
    );
  }
  const E = csr.sources.length;
  const drop = seed !== undefined && attnDropout > 0 && E > 0
    ? dropoutMask([E, heads], attnDropout, seed)
    : undefined;
  const attrs = { csr, heads };
  const f = tf.customGrad((qq, kk, vv, save) => {
    const ins = { q: qq as tf.Tensor, k: kk as tf.Tensor, v: vv as tf.Tensor };
    const [out, attn, pre] = runHostKernel("CsrAttention", drop ? { ...ins, drop } : ins, attrs);
    // Everything the backward pass reads is saved: tensors merely captured here (the dropout
    // mask) would be disposed with the forward pass's scope before the backward pass runs.
    (save as tf.GradSaveFunc)([ins.q, ins.k, ins.v, attn, pre, ...(drop ? [drop] : [])]);
    return {
      value: out,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [sq, sk, sv, sa, sp, sd] = saved;
        const g = { dy: dy as tf.Tensor, q: sq, k: sk, v: sv, attn: sa, pre: sp };
        return runHostKernel("CsrAttentionGrad", sd ? { ...g, drop: sd } : g, attrs);
      },
    };
  });
  return f(q, k, v) as tf.Tensor2D;
}
