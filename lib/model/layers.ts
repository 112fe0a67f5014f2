/**
 * Parameters and the shared message-passing machinery of the graph model, in TensorFlow.js.
 *
 * One routine serves every relation: gather the neighbours' rows → score them → softmax over
 * each node's edges → aggregate. GraphSAGE's mean is the routine with uniform scores; CNDA and
 * CNAP use scaled dot-product scores. On the CPU backends it runs as one fused kernel over CSR
 * (`message_passing.ts`); elsewhere (WebGPU, tfjs-node) as TF.js ops on dense index matrices
 * (fixed degree, −1 = empty slot, a masked softmax) or edge lists (segment sums).
 */
import { tf, transposedProductsAreSlow } from "./backend.ts";
import { affine } from "./wasm_kernels.ts";
import { type Csr, csrAttention, csrFromRows, csrMean, csrReversed } from "./message_passing.ts";
import { hostKernelsAvailable, registerHostKernel, runHostKernel } from "./host_kernels.ts";
import { nativeKernels } from "./native.ts";
import { fusedDropout } from "./dropout.ts";
import { Rng } from "../util/random.ts";

let fusedAllowed = true;
/**
 * Turns this module's fused CPU kernels (message passing, layer norm, LeakyReLU, concat, bias
 * sums) off (false = TF.js ops everywhere, as on WebGPU); for tests.
 */
export function setFusedKernels(on: boolean): void {
  fusedAllowed = on;
}
/** Whether the fused host kernels run now (a CPU backend, and not switched off for a test). */
export const fusedKernelsActive = () => fusedAllowed && hostKernelsAvailable();
const fused = fusedKernelsActive;

/** How a dense layer's values start (see `ParamStore.dense`). */
export type DenseInit =
  | { kind: "glorot" }
  | { kind: "torch"; zeroBias?: boolean }
  | { kind: "normal"; std: number };

/** Owns the trainable variables of a model, created with seeded initial values. */
export class ParamStore {
  private static count = 0;
  static get instances(): number {
    return ParamStore.count;
  }
  readonly vars = new Map<string, tf.Variable>();
  constructor(private readonly rng: Rng) {
    ParamStore.count++;
  }

  /**
   * A dense layer's weight and bias. `glorot` (default): Glorot-uniform weight, zero bias.
   * `torch`: PyTorch's and PyG's default for a linear layer, weight and bias uniform in
   * ±1/√inDim (`zeroBias` for a layer built with bias=False there, whose bias starts at 0 here).
   * `normal`: N(0, std²) weight (timm's trunc_normal_, whose ±2 cut-off is ~100 σ away at the
   * small std it is used with), zero bias.
   */
  dense(
    name: string,
    inDim: number,
    outDim: number,
    init: DenseInit = { kind: "glorot" },
  ): { W: tf.Variable; b: tf.Variable } {
    const uniform = (n: number, lim: number) =>
      Float32Array.from({ length: n }, () => (2 * this.rng.uniform() - 1) * lim);
    let w: Float32Array, b = new Float32Array(outDim);
    if (init.kind === "glorot") w = uniform(inDim * outDim, Math.sqrt(6 / (inDim + outDim)));
    else if (init.kind === "torch") {
      w = uniform(inDim * outDim, 1 / Math.sqrt(inDim));
      if (!init.zeroBias) b = uniform(outDim, 1 / Math.sqrt(inDim));
    } else {
      w = Float32Array.from(
        { length: inDim * outDim },
        () => Math.min(2, Math.max(-2, init.std * this.rng.normal())),
      );
    }
    return {
      W: this.add(`${name}.W`, tf.tensor2d(w, [inDim, outDim])),
      b: this.add(`${name}.b`, tf.tensor1d(b)),
    };
  }

  layerNorm(name: string, dim: number): { g: tf.Variable; b: tf.Variable } {
    return { g: this.add(`${name}.g`, tf.ones([dim])), b: this.add(`${name}.b`, tf.zeros([dim])) };
  }

  private add(name: string, init: tf.Tensor): tf.Variable {
    if (this.vars.has(name)) throw new Error(`parameter ${name} defined twice`);
    // tfjs registers variable names globally: make each store's names unique.
    const v = tf.variable(init, true, `${name}#${ParamStore.instances}`);
    init.dispose();
    this.vars.set(name, v);
    return v;
  }

  /**
   * Copies of all values (for frozen/EMA target encoders and checkpoints), each in a buffer of its
   * own: a clone would share the variable's, which the optimiser updates in place when no other
   * tensor holds it (x + 0 is x exactly, −0 aside).
   */
  snapshot(): Map<string, tf.Tensor> {
    return new Map([...this.vars].map(([k, v]) => [k, tf.keep(tf.tidy(() => tf.add(v, 0)))]));
  }

  dispose(): void {
    for (const v of this.vars.values()) v.dispose();
    this.vars.clear();
  }
}

export type Dense = { W: tf.Tensor; b: tf.Tensor };
export type Norm = { g: tf.Tensor; b: tf.Tensor };

/**
 * x·W + b with a hand-written gradient: XNNPACK on tfjs-wasm multiplies transposed operands ~10×
 * slower than plain ones (measured: 131 ms vs 13 ms for a 540×256 by 256×1061 product), and the
 * default gradient of matMul uses exactly those. There, an explicit transpose, then a plain
 * product; elsewhere (BLAS, cpu, webgpu) the transposed product itself.
 */
const denseOp = tf.customGrad((x, W, b, save) => {
  (save as tf.GradSaveFunc)([x as tf.Tensor, W as tf.Tensor]);
  return {
    value: affineValue(x as tf.Tensor, W as tf.Tensor, b as tf.Tensor),
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
      const [xs, Ws] = saved as [tf.Tensor2D, tf.Tensor2D];
      const g = dy as tf.Tensor2D;
      const dx = transposedProductsAreSlow()
        ? tf.matMul(g, tf.transpose(Ws))
        : tf.matMul(g, Ws, false, true);
      return [dx, weightGradient(xs, g), columnSums(g)];
    },
  };
});

/** x·W + b: one BLAS call with its bias where there is BLAS, else a product and an add. */
function affineValue(x: tf.Tensor, W: tf.Tensor, b: tf.Tensor): tf.Tensor {
  return affine(x as tf.Tensor2D, W as tf.Tensor2D, b as tf.Tensor1D) ??
    tf.add(tf.matMul(x as tf.Tensor2D, W as tf.Tensor2D), b);
}

/** xᵀ·g, the weight's gradient (transposed explicitly where transposed products are slow). */
function weightGradient(x: tf.Tensor2D, g: tf.Tensor2D): tf.Tensor {
  return transposedProductsAreSlow() ? tf.matMul(tf.transpose(x), g) : tf.matMul(x, g, true, false);
}

export const dense = (p: Dense, x: tf.Tensor): tf.Tensor2D => denseOp(x, p.W, p.b) as tf.Tensor2D;

/**
 * `dense` on data no gradient flows into (a graph's masked features): the same value and
 * gradients for W and b, without the product for x's gradient that `dense` would compute and
 * throw away (for SpaHGC's input projections, 3 % of an epoch's arithmetic).
 */
export function denseOnData(p: Dense, x: tf.Tensor): tf.Tensor2D {
  return tf.customGrad((W, b, save) => {
    // Saved, not captured: x may be an intermediate that the forward pass's scope disposes.
    (save as tf.GradSaveFunc)([x]);
    return {
      value: affineValue(x, W as tf.Tensor, b as tf.Tensor),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const g = dy as tf.Tensor2D;
        return [weightGradient(saved[0] as tf.Tensor2D, g), columnSums(g)];
      },
    };
  })(p.W, p.b) as tf.Tensor2D;
}

/** Σ over rows of a matrix ([n, F] → [F]): a bias gradient. */
registerHostKernel("ColumnSums", ({ inputs, view, alloc }) => {
  const [n, F] = inputs.x.shape;
  const out = alloc([F]);
  const X = view(inputs.x), O = view(out);
  const c = nativeKernels();
  if (c) c.column_sums(n, F, X, O);
  else for (let i = 0; i < n; i++) for (let j = 0; j < F; j++) O[j] += X[i * F + j];
  return out;
});

/** tfjs sums over a leading axis by transposing first; a row-order loop needs no transpose. */
function columnSums(g: tf.Tensor2D): tf.Tensor {
  return fused() ? runHostKernel("ColumnSums", { x: g }, {})[0] : tf.sum(g, 0);
}

/** Copies rows of `parts` side by side into `out` (widths summing to out's), or back when `split`. */
export function copyColumns(
  out: Float32Array,
  parts: Float32Array[],
  widths: number[],
  split: boolean,
) {
  const F = widths.reduce((a, b) => a + b, 0), n = F ? out.length / F : 0;
  for (let i = 0; i < n; i++) {
    let at = i * F;
    for (let p = 0; p < parts.length; p++) {
      const w = widths[p], row = parts[p].subarray(i * w, (i + 1) * w);
      if (split) row.set(out.subarray(at, at + w));
      else out.set(row, at);
      at += w;
    }
  }
}

registerHostKernel("ConcatColumns", ({ inputs, view, alloc }) => {
  const { a, b } = inputs, widths = [a.shape[1], b.shape[1]];
  const out = alloc([a.shape[0], widths[0] + widths[1]], false);
  copyColumns(view(out), [view(a), view(b)], widths, false);
  return out;
});

registerHostKernel("SplitColumns", ({ inputs, view, alloc }, { at }: { at: number }) => {
  const { x } = inputs, widths = [at, x.shape[1] - at];
  const outs = widths.map((w) => alloc([x.shape[0], w], false));
  copyColumns(view(x), outs.map(view), widths, true);
  return outs;
});

/**
 * [a ‖ b] along columns. On the CPU backends one row-copy pass each way: tfjs-wasm's concat and
 * its split gradient took ~0.7 ms per call at SpaHGC's sizes (a memcpy's work is ~0.05 ms).
 */
export function concatColumns(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  if (!fused()) return tf.concat([a, b], 1);
  const at = a.shape[1];
  return tf.customGrad((aa, bb) => ({
    value: runHostKernel("ConcatColumns", { a: aa as tf.Tensor, b: bb as tf.Tensor }, {})[0],
    gradFunc: (dy) => runHostKernel("SplitColumns", { x: dy as tf.Tensor }, { at }),
  }))(a, b) as tf.Tensor2D;
}

registerHostKernel(
  "SliceColumns",
  ({ inputs, view, alloc }, { from, width }: { from: number; width: number }) => {
    const [n, F] = inputs.x.shape;
    const out = alloc([n, width], false);
    const X = view(inputs.x), O = view(out);
    for (let i = 0; i < n; i++) O.set(X.subarray(i * F + from, i * F + from + width), i * width);
    return out;
  },
);

/**
 * Columns [from, from + width) of data no gradient flows into (a view's expression columns): one
 * row copy on the CPU backends, where tfjs-wasm's `slice` of a column block took ~0.7 ms at
 * SpaHGC's sizes (10 calls an epoch).
 */
export function dataColumns(x: tf.Tensor2D, from: number, width: number): tf.Tensor2D {
  if (!fused()) return tf.slice(x, [0, from], [-1, width]);
  return runHostKernel("SliceColumns", { x }, { from, width })[0] as tf.Tensor2D;
}

/**
 * Row-wise layer norm: y = (x − mean)/√(var + eps)·g + b, var the population variance (as
 * tf.moments). Outputs y, the normalised x̂ and 1/√(var + eps) per row (both for the gradient).
 */
registerHostKernel("LayerNorm", ({ inputs, view, alloc }, { eps }: { eps: number }) => {
  const [n, F] = inputs.x.shape;
  const y = alloc([n, F], false), xhat = alloc([n, F], false), rstd = alloc([n], false);
  const X = view(inputs.x), G = view(inputs.g), B = view(inputs.b);
  const Y = view(y), H = view(xhat), R = view(rstd);
  const c = nativeKernels();
  if (c) {
    c.layer_norm(n, F, X, G, B, eps, Y, H, R);
    return [y, xhat, rstd];
  }
  for (let i = 0; i < n; i++) {
    const o = i * F;
    let mean = 0, v = 0;
    for (let j = 0; j < F; j++) mean += X[o + j];
    mean /= F;
    for (let j = 0; j < F; j++) v += (X[o + j] - mean) ** 2;
    const r = (R[i] = 1 / Math.sqrt(v / F + eps));
    for (let j = 0; j < F; j++) {
      const h = (H[o + j] = (X[o + j] - mean) * r);
      Y[o + j] = h * G[j] + B[j];
    }
  }
  return [y, xhat, rstd];
});

/** dx = r·(dy·g − mean(dy·g) − x̂·mean(dy·g·x̂)) per row; dg = Σ dy·x̂, db = Σ dy over rows. */
registerHostKernel("LayerNormGrad", ({ inputs, view, alloc }) => {
  const [n, F] = inputs.dy.shape;
  const dx = alloc([n, F], false), dg = alloc([F]), db = alloc([F]);
  const DY = view(inputs.dy), H = view(inputs.xhat), R = view(inputs.rstd), G = view(inputs.g);
  const DX = view(dx), DG = view(dg), DB = view(db);
  const c = nativeKernels();
  if (c) {
    c.layer_norm_grad(n, F, DY, H, R, G, DX, DG, DB);
    return [dx, dg, db];
  }
  for (let i = 0; i < n; i++) {
    const o = i * F;
    let a = 0, b = 0;
    for (let j = 0; j < F; j++) {
      const t = DY[o + j] * G[j];
      a += t;
      b += t * H[o + j];
      DG[j] += DY[o + j] * H[o + j];
      DB[j] += DY[o + j];
    }
    a /= F;
    b /= F;
    for (let j = 0; j < F; j++) DX[o + j] = R[i] * (DY[o + j] * G[j] - a - H[o + j] * b);
  }
  return [dx, dg, db];
});

/**
 * Layer norm over the last axis with gain and bias. On the CPU backends (2-D input) one kernel
 * each way: as TF.js ops it is ~10 ops forward and ~20 backward (moments, broadcasts).
 */
export function layerNorm(p: Norm, x: tf.Tensor, eps = 1e-5): tf.Tensor2D {
  if (fused() && x.rank === 2) {
    return tf.customGrad((xx, g, b, save) => {
      const [y, xhat, rstd] = runHostKernel("LayerNorm", {
        x: xx as tf.Tensor,
        g: g as tf.Tensor,
        b: b as tf.Tensor,
      }, { eps });
      (save as tf.GradSaveFunc)([xhat, rstd, g as tf.Tensor]);
      return {
        value: y,
        gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) =>
          runHostKernel("LayerNormGrad", {
            dy: dy as tf.Tensor,
            xhat: saved[0],
            rstd: saved[1],
            g: saved[2],
          }, {}),
      };
    })(x, p.g, p.b) as tf.Tensor2D;
  }
  const { mean, variance } = tf.moments(x, -1, true);
  return tf.add(
    tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, eps))), p.g),
    p.b,
  ) as tf.Tensor2D;
}

/** dx = dy where x > 0, else 0.2·dy. */
registerHostKernel("LeakyReluGrad", ({ inputs, view, alloc }) => {
  const out = alloc(inputs.x.shape, false);
  const X = view(inputs.x), DY = view(inputs.dy), O = view(out);
  const c = nativeKernels();
  if (c) c.leaky_relu_grad(X.length, X, DY, O, 0.2);
  else for (let i = 0; i < X.length; i++) O[i] = X[i] > 0 ? DY[i] : 0.2 * DY[i];
  return out;
});

/** y = x where x > 0, else 0.2·x. */
registerHostKernel("LeakyReluHost", ({ inputs, view, alloc }) => {
  const out = alloc(inputs.x.shape, false);
  const X = view(inputs.x), O = view(out);
  const c = nativeKernels();
  if (c) c.leaky_relu(X.length, X, O, 0.2);
  else for (let i = 0; i < X.length; i++) O[i] = X[i] > 0 ? X[i] : 0.2 * X[i];
  return out;
});

/**
 * LeakyReLU with slope 0.2. On the CPU backends forward and gradient are one loop each: tfjs's
 * gradient is a compare, a select and a product, three passes and three ops.
 */
const leakyHost = tf.customGrad((x, save) => {
  (save as tf.GradSaveFunc)([x as tf.Tensor]);
  return {
    value: runHostKernel("LeakyReluHost", { x: x as tf.Tensor }, {})[0],
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) =>
      runHostKernel("LeakyReluGrad", { x: saved[0], dy: dy as tf.Tensor }, {})[0],
  };
});

export const leaky = (x: tf.Tensor): tf.Tensor2D =>
  (fused() ? leakyHost(x) : tf.leakyRelu(x, 0.2)) as tf.Tensor2D;

interface NodeUpdateAttrs {
  /** Terms per relation, in input order. */
  sizes: number[];
}

/** LeakyReLU(mean over relations of each relation's summed terms): see `nodeUpdate`. */
registerHostKernel("NodeUpdate", ({ inputs, view, alloc }, { sizes }: NodeUpdateAttrs) => {
  const count = sizes.reduce((a, b) => a + b, 0);
  const terms = Array.from({ length: count }, (_, i) => inputs[`t${i}`]);
  const y = alloc(terms[0].shape, false);
  const T = terms.map(view), Y = view(y);
  const c = nativeKernels();
  if (c && sizes.length <= 2 && sizes.every((k) => k === 1 || k === 2)) {
    const [a, b = a, cc = a, d = a] = T;
    c.node_update(Y.length, sizes.length, sizes[0], sizes[1] ?? 0, a, b, cc, d, Y, 0.2);
    return y;
  }
  // float32 after every operation, as the TF.js ops (`add`, `addN` from zero, `div`) store it.
  const f = Math.fround;
  for (let i = 0; i < Y.length; i++) {
    let total = 0, at = 0;
    for (const k of sizes) {
      let s = T[at][i];
      for (let j = 1; j < k; j++) s = f(s + T[at + j][i]);
      total = sizes.length === 1 ? s : f(total + s);
      at += k;
    }
    const v = sizes.length === 1 ? total : f(total / sizes.length);
    Y[i] = v > 0 ? v : 0.2 * v;
  }
  return y;
});

/** Its gradient, one tensor for every term: dy where y > 0, else 0.2·dy; ÷ relations. */
registerHostKernel(
  "NodeUpdateGrad",
  ({ inputs, view, alloc }, { relations }: { relations: number }) => {
    const out = alloc(inputs.y.shape, false);
    const Y = view(inputs.y), DY = view(inputs.dy), O = view(out);
    const c = nativeKernels();
    if (c && relations <= 2) {
      c.node_update_grad(Y.length, relations, Y, DY, O, 0.2);
      return out;
    }
    for (let i = 0; i < Y.length; i++) {
      const g = Y[i] > 0 ? DY[i] : 0.2 * DY[i];
      O[i] = relations === 1 ? g : Math.fround(g) / relations;
    }
    return out;
  },
);

/**
 * A layer's update of one node type (PyG's `HeteroConv` with mean aggregation, then the
 * activation): LeakyReLU(mean over relations of the relation's message), each message given as
 * its summed terms (GraphSAGE: the neighbours' term and the root term; CNDA: one). On the CPU
 * backends one kernel each way, computing what the TF.js ops (`add`, `addN`, `div`, LeakyReLU)
 * compute, in their order; those ops were ~8 kernels a node type and layer, forward and back.
 *
 * @example
 * ```ts
 * // targets: GraphSAGE over TS edges (two terms) and CNDA over CS edges (one term)
 * t = nodeUpdate([[dense(linL, neighbourMean(t, ts)), dense(linR, t)], [dense(to, attention)]]);
 * ```
 */
export function nodeUpdate(relations: tf.Tensor2D[][]): tf.Tensor2D {
  if (!relations.length || relations.some((terms) => !terms.length)) {
    throw new Error("nodeUpdate: every relation needs at least one term");
  }
  if (!fused()) {
    const sums = relations.map((terms) => terms.reduce((a, b) => tf.add(a, b) as tf.Tensor2D));
    return leaky(sums.length === 1 ? sums[0] : tf.div(tf.addN(sums), sums.length));
  }
  const sizes = relations.map((terms) => terms.length), n = relations.length;
  const terms = relations.flat();
  return tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args.pop() as tf.GradSaveFunc;
    const inputs = Object.fromEntries(args.map((t, i) => [`t${i}`, t as tf.Tensor]));
    const y = runHostKernel("NodeUpdate", inputs, { sizes })[0];
    save([y]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const g = runHostKernel("NodeUpdateGrad", { y: saved[0], dy: dy as tf.Tensor }, {
          relations: n,
        })[0];
        // One tensor per term (the engine adds and disposes each separately).
        return terms.map((_, i) => (i === 0 ? g : tf.clone(g)));
      },
    };
  })(...terms) as tf.Tensor2D;
}

/** Dropout while training (a seed given); the same masks on every backend (`dropout.ts`). */
export function dropout(x: tf.Tensor, rate: number, seed: number | undefined): tf.Tensor2D {
  if (seed === undefined || rate === 0) return x as tf.Tensor2D;
  return (fused() && x.dtype === "float32"
    ? fusedDropout(x, rate, seed)
    : tf.dropout(x, rate, undefined, seed)) as tf.Tensor2D;
}

/** A fixed-degree neighbourhood on the current backend: indices (−1 → 0) and a 0/1 mask. */
export interface Neighbourhood {
  /** [n, D] int32, empty slots point at row 0. */
  index: tf.Tensor2D;
  /** [n, D] float32, 1 for a real neighbour. */
  mask: tf.Tensor2D;
  degree: number;
  /** The same relation on the host, for the fused kernels. */
  csr: Csr;
}

/** Uploads an index matrix (row-major n × D, −1 = empty) as a Neighbourhood. Keep it; dispose with `disposeNeighbourhood`. */
export function neighbourhood(index: Int32Array, degree: number): Neighbourhood {
  const n = degree ? index.length / degree : 0;
  const clamped = Int32Array.from(index, (v) => (v < 0 ? 0 : v));
  const mask = Float32Array.from(index, (v) => (v < 0 ? 0 : 1));
  return {
    index: tf.keep(tf.tensor2d(clamped, [n, degree], "int32")),
    mask: tf.keep(tf.tensor2d(mask, [n, degree])),
    degree,
    csr: csrFromRows(index, degree),
  };
}

export function disposeNeighbourhood(nb: Neighbourhood): void {
  nb.index.dispose();
  nb.mask.dispose();
}

/**
 * A relation as an edge list, for neighbourhoods whose degree varies a lot (CNDA's reference ←
 * target direction: a popular reference can be retrieved by > 100 targets while most are
 * retrieved once, so padding to the largest degree would multiply the work).
 */
export interface EdgeList {
  /** [E] int32 source node of each edge. */
  src: tf.Tensor1D;
  /** [E] int32 destination node of each edge. */
  dst: tf.Tensor1D;
  nDst: number;
  /** [nDst, 1] float32: number of incoming edges (≥ 1 to avoid division by zero). */
  inDegree: tf.Tensor2D;
  /** The same relation on the host, for the fused kernels. */
  csr: Csr;
}

/** The edge list reversing a fixed-degree relation (row i lists its sources) onto its sources. */
export function reversedEdges(index: Int32Array, degree: number, nSource: number): EdgeList {
  const src: number[] = [], dst: number[] = [];
  const deg = new Float32Array(nSource);
  for (let e = 0; e < index.length; e++) {
    if (index[e] < 0) continue;
    src.push(Math.floor(e / degree)); // the row that listed it becomes the source
    dst.push(index[e]);
    deg[index[e]]++;
  }
  return {
    src: tf.keep(tf.tensor1d(src, "int32")),
    dst: tf.keep(tf.tensor1d(dst, "int32")),
    nDst: nSource,
    inDegree: tf.keep(tf.tensor2d(deg.map((d) => Math.max(1, d)), [nSource, 1])),
    csr: csrReversed(index, degree, nSource),
  };
}

export function disposeEdges(e: EdgeList): void {
  e.src.dispose();
  e.dst.dispose();
  e.inDegree.dispose();
}

/**
 * Σ of each destination's edge rows: `unsortedSegmentSum` over `e.dst` with a plain gather as its
 * gradient. tfjs's own gradient allows for negative segment ids (which edge lists never hold)
 * with a broadcast `where`, and that took 0.43 s of a 2.1 s training epoch on wasm.
 */
export function edgeSum(x: tf.Tensor, e: EdgeList): tf.Tensor {
  return tf.customGrad((v, _save) => ({
    value: tf.unsortedSegmentSum(v as tf.Tensor, e.dst, e.nDst),
    gradFunc: (dy) => tf.gather(dy as tf.Tensor, e.dst),
  }))(x);
}

/** Mean over incoming edges (GraphSAGE mean aggregation on an edge list). */
export function edgeMean(x: tf.Tensor2D, e: EdgeList): tf.Tensor2D {
  if (fused()) return csrMean(x, e.csr);
  return tf.div(edgeSum(tf.gather(x, e.src), e), e.inDegree) as tf.Tensor2D;
}

/**
 * The per-head maximum of the scores as a constant: the softmax does not depend on the shift, so
 * no gradient needs to flow through it (tfjs's gradient of max costs more than the rest here).
 */
const shiftOf = tf.customGrad((x, _save) => ({
  value: tf.max(x as tf.Tensor, 0, true),
  gradFunc: () => tf.zerosLike(x as tf.Tensor),
}));

/**
 * `neighbourAttention` on an edge list: per-edge scores, softmax over each destination's edges
 * (stabilised by the per-head maximum over all edges — the same softmax, as a constant shift
 * within a group cancels), dropout, Σ attn·v by segment sums. Destinations without edges get 0.
 */
export function edgeAttention(
  q: tf.Tensor2D,
  k: tf.Tensor2D,
  v: tf.Tensor2D,
  e: EdgeList,
  heads: number,
  attnDropout: number,
  seed: number | undefined,
): tf.Tensor2D {
  if (fused()) return csrAttention(q, k, v, e.csr, heads, attnDropout, seed);
  const width = q.shape[1], dh = width / heads, E = e.src.shape[0];
  const qe = tf.reshape(tf.gather(q, e.dst), [E, heads, dh]);
  const ke = tf.reshape(tf.gather(k, e.src), [E, heads, dh]);
  const ve = tf.reshape(tf.gather(v, e.src), [E, heads, dh]);
  const score = tf.leakyRelu(tf.div(tf.sum(tf.mul(qe, ke), 2), Math.sqrt(dh)), 0.2); // [E, H]
  const ex = tf.exp(tf.sub(score, shiftOf(score)));
  const denom = edgeSum(ex, e); // [nDst, H]
  let attn = tf.div(ex, tf.gather(denom, e.dst)); // [E, H]
  if (seed !== undefined && attnDropout > 0) attn = tf.dropout(attn, attnDropout, undefined, seed);
  const msg = tf.reshape(tf.mul(tf.expandDims(attn, 2), ve), [E, width]);
  return edgeSum(msg, e) as tf.Tensor2D;
}

/** Mean of the neighbours' rows (GraphSAGE mean aggregation); nodes without neighbours get 0. */
export function neighbourMean(x: tf.Tensor2D, nb: Neighbourhood): tf.Tensor2D {
  if (fused()) return csrMean(x, nb.csr);
  const g = tf.gather(x, nb.index); // [n, D, F]
  const m = tf.expandDims(nb.mask, 2);
  const count = tf.maximum(tf.sum(nb.mask, 1, true), 1); // [n, 1]
  return tf.div(tf.sum(tf.mul(g, m), 1), count) as tf.Tensor2D;
}

/**
 * Multi-head attention of each query node over its neighbourhood:
 * score = LeakyReLU(q·k / √d_head), softmax over the node's real neighbours, dropout, Σ attn·v.
 * q: [n, H·dh]; k, v: [nSource, H·dh] (rows gathered by the neighbourhood). Returns [n, H·dh].
 */
export function neighbourAttention(
  q: tf.Tensor2D,
  k: tf.Tensor2D,
  v: tf.Tensor2D,
  nb: Neighbourhood,
  heads: number,
  attnDropout: number,
  seed: number | undefined,
): tf.Tensor2D {
  if (fused()) return csrAttention(q, k, v, nb.csr, heads, attnDropout, seed);
  const n = q.shape[0], width = q.shape[1], dh = width / heads, D = nb.degree;
  const qh = tf.reshape(q, [n, 1, heads, dh]);
  const kh = tf.reshape(tf.gather(k, nb.index), [n, D, heads, dh]);
  const vh = tf.reshape(tf.gather(v, nb.index), [n, D, heads, dh]);
  let score = tf.leakyRelu(tf.div(tf.sum(tf.mul(qh, kh), 3), Math.sqrt(dh)), 0.2); // [n, D, H]
  score = tf.add(score, tf.mul(tf.sub(tf.expandDims(nb.mask, 2), 1), 1e9)); // empty slots → −1e9
  let attn = tf.softmax(tf.transpose(score, [0, 2, 1])); // [n, H, D]
  attn = tf.mul(attn, tf.expandDims(nb.mask, 1)); // rows with no neighbour → all 0
  if (seed !== undefined && attnDropout > 0) attn = tf.dropout(attn, attnDropout, undefined, seed);
  const out = tf.sum(tf.mul(tf.expandDims(tf.transpose(attn, [0, 2, 1]), 3), vh), 1); // [n, H, dh]
  return tf.reshape(out, [n, width]) as tf.Tensor2D;
}

/**
 * Each row divided by its Euclidean norm (+ 1e-8). Written as √Σx² rather than `tf.norm`, whose
 * forward and gradient go through `pow` (0.7 ms a call on wasm at [494, 256]).
 */
export function unitRows(x: tf.Tensor2D): tf.Tensor2D {
  return tf.div(x, tf.add(tf.sqrt(tf.sum(tf.square(x), 1, true)), 1e-8)) as tf.Tensor2D;
}

/** Parameters of a pre-norm transformer block (multi-head self-attention + feed-forward). */
export interface TransformerBlock {
  ln1: Norm;
  qkv: Dense;
  out: Dense;
  ln2: Norm;
  ff1: Dense;
  ff2: Dense;
}

export function transformerBlockParams(
  store: ParamStore,
  name: string,
  width: number,
  ffWidth = 2 * width,
): TransformerBlock {
  return {
    ln1: store.layerNorm(`${name}.ln1`, width),
    qkv: store.dense(`${name}.qkv`, width, 3 * width),
    out: store.dense(`${name}.out`, width, width),
    ln2: store.layerNorm(`${name}.ln2`, width),
    ff1: store.dense(`${name}.ff1`, width, ffWidth),
    ff2: store.dense(`${name}.ff2`, ffWidth, width),
  };
}

/**
 * Self-attention among all n rows (the spots of one slice), `heads` heads, softmax(QKᵀ/√d)·V.
 * Dense n × n scores: fine for the few hundred to few thousand spots of a slice.
 */
export function selfAttention(
  p: { qkv: Dense; out: Dense },
  x: tf.Tensor2D,
  heads: number,
  dropoutRate: number,
  seed: number | undefined,
): tf.Tensor2D {
  const n = x.shape[0], width = x.shape[1], dh = width / heads;
  const qkv = dense(p.qkv, x); // [n, 3·width]
  const split = (i: number) =>
    tf.transpose(tf.reshape(tf.slice(qkv, [0, i * width], [n, width]), [n, heads, dh]), [1, 0, 2]);
  const [q, k, v] = [split(0), split(1), split(2)]; // [H, n, dh]
  let attn = tf.softmax(tf.div(tf.matMul(q, tf.transpose(k, [0, 2, 1])), Math.sqrt(dh))); // [H, n, n]
  if (seed !== undefined && dropoutRate > 0) attn = tf.dropout(attn, dropoutRate, undefined, seed);
  const o = tf.reshape(tf.transpose(tf.matMul(attn, v), [1, 0, 2]), [n, width]);
  return dense(p.out, o);
}

/** Pre-norm transformer block: x + SA(LN(x)), then + FF(LN(·)) with a ReLU feed-forward. */
export function transformerBlock(
  p: TransformerBlock,
  x: tf.Tensor2D,
  heads: number,
  dropoutRate: number,
  seed: number | undefined,
): tf.Tensor2D {
  const h = tf.add(
    x,
    dropout(selfAttention(p, layerNorm(p.ln1, x), heads, dropoutRate, seed), dropoutRate, seed),
  ) as tf.Tensor2D;
  const f = dense(p.ff2, tf.relu(dense(p.ff1, layerNorm(p.ln2, h))));
  return tf.add(
    h,
    dropout(f, dropoutRate, seed === undefined ? undefined : seed + 1),
  ) as tf.Tensor2D;
}

/**
 * Symmetric InfoNCE (CLIP) loss between paired rows of a and b: cosine similarities over
 * `temperature`, cross-entropy towards the diagonal in both directions.
 */
export function clipLoss(a: tf.Tensor2D, b: tf.Tensor2D, temperature = 0.1): tf.Scalar {
  const n = a.shape[0];
  const na = unitRows(a), nb = unitRows(b);
  const logits = tf.div(tf.matMul(na, tf.transpose(nb)), temperature) as tf.Tensor2D;
  const eye = tf.eye(n);
  const diag = (l: tf.Tensor2D) => tf.sum(tf.mul(tf.logSoftmax(l, 1), eye), 1);
  return tf.neg(
    tf.div(tf.add(tf.sum(diag(logits)), tf.sum(diag(tf.transpose(logits)))), 2 * n),
  ) as tf.Scalar;
}
