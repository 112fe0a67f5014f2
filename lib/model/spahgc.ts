/**
 * SpaHGC (method.md, "Model" and "Complementary masking and contrastive loss") in
 * TensorFlow.js: input projections, 4 heterogeneous layers (GraphSAGE on TS and RS edges, CNDA
 * on CS edges, mean over the relations reaching a node, LeakyReLU), CNAP with a residual, a
 * linear head; two complementary-masked views, a stop-gradient target encoder (`paper`: the same
 * weights, `released`: a frozen copy at initialisation, `ema`), and the paper's or the released
 * code's loss weighting. Ablation switches remove TS / CS / RS edges, CNDA (→ mean aggregation
 * over CS edges) or CNAP.
 */
import { tf } from "./backend.ts";
import { AdamW } from "./optimizer.ts";
import { maskedViews, type Masking } from "./masking.ts";
import { Rng } from "../util/random.ts";
import type { HeteroGraph } from "../graph/hetero.ts";
import {
  concatColumns,
  copyColumns,
  dataColumns,
  type Dense,
  dense,
  type DenseInit,
  denseOnData,
  disposeEdges,
  disposeNeighbourhood,
  dropout,
  edgeAttention,
  type EdgeList,
  edgeMean,
  layerNorm,
  leaky,
  neighbourAttention,
  type Neighbourhood,
  neighbourhood,
  neighbourMean,
  nodeUpdate,
  type Norm,
  ParamStore,
  reversedEdges,
  unitRows,
} from "./layers.ts";

export interface Ablation {
  noTS?: boolean;
  noCS?: boolean;
  noRS?: boolean;
  noCNDA?: boolean;
  noCNAP?: boolean;
  /** Shuffle reference expression across reference nodes (a control: is expression used?). */
  shuffleReferenceExpression?: boolean;
}

export interface SpaHGCConfig {
  dim: number;
  genes: number;
  hidden: number;
  layers: number;
  heads: number;
  dropout: number;
  attnDropout: number;
  /** Feature-mask ratios of targets (α) and references (β). */
  alpha: number;
  beta: number;
  masking: Masking;
  targetEncoder: "paper" | "released" | "ema";
  emaDecay: number;
  loss: "paper" | "released";
  /** Starting values of the dense layers: `released` (the authors' modules) or `glorot`. */
  init: "released" | "glorot";
  /**
   * Network details where the paper's text leaves room and the released `model.py` decides:
   * `paper` — separate input MLPs for targets and references, reference_y layer-normed once,
   * attention dropout in CNAP too; `released` — as the authors' code: one `post_transform` MLP
   * shared by both node types, no biases in the input projections, reference_y layer-normed
   * inside each CNDA layer after the LeakyReLU every layer applies to it, CNAP without dropout.
   */
  architecture: "paper" | "released";
  ablation: Ablation;
  seed: number;
}

export const DEFAULT_CONFIG: Omit<SpaHGCConfig, "dim" | "genes"> = {
  hidden: 256,
  layers: 4,
  heads: 4,
  dropout: 0.2,
  attnDropout: 0.1,
  alpha: 0.8,
  beta: 0.9,
  masking: "complementary",
  targetEncoder: "paper",
  emaDecay: 0.99,
  loss: "paper",
  init: "released",
  architecture: "paper",
  ablation: {},
  seed: 0,
};

/** A graph's constant tensors on the current backend. */
export interface GraphTensors {
  nT: number;
  nR: number;
  xT: tf.Tensor2D;
  /** Reference features [z ‖ y]: image embedding, then (possibly shuffled) expression. */
  hR: tf.Tensor2D;
  ts: Neighbourhood;
  cs: Neighbourhood;
  /** Reference ← target edges (the CS relation reversed), as an edge list. */
  csRev: EdgeList;
  rs: Neighbourhood;
  dispose(): void;
}

export function graphTensors(g: HeteroGraph, shuffleSeed?: number): GraphTensors {
  const d = g.target.dim, M = g.reference.genes, nR = g.reference.n;
  const hR = new Float32Array(nR * (d + M));
  let yR = g.reference.expression;
  if (shuffleSeed !== undefined) {
    // Control: permute expression rows across reference nodes, keeping image features in place.
    const perm = Array.from({ length: nR }, (_, i) => i);
    const rng = new Rng(shuffleSeed);
    for (let i = nR - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [perm[i], perm[j]] = [perm[j], perm[i]];
    }
    yR = new Float32Array(nR * M);
    perm.forEach((p, i) => yR.set(g.reference.expression.subarray(p * M, (p + 1) * M), i * M));
  }
  copyColumns(hR, [g.reference.features, yR], [d, M], false);
  const t: GraphTensors = {
    nT: g.target.n,
    nR,
    xT: tf.keep(tf.tensor2d(g.target.features, [g.target.n, d])),
    hR: tf.keep(tf.tensor2d(hR, [nR, d + M])),
    ts: neighbourhood(g.ts.index, g.ts.degree),
    cs: neighbourhood(g.cs.index, g.cs.degree),
    csRev: reversedEdges(g.cs.index, g.cs.degree, nR),
    rs: neighbourhood(g.rs.index, g.rs.degree),
    dispose() {
      for (const x of [t.xT, t.hR]) x.dispose();
      for (const nb of [t.ts, t.cs, t.rs]) disposeNeighbourhood(nb);
      disposeEdges(t.csRev);
    },
  };
  return t;
}

type Weights = (name: string) => tf.Tensor;

/** The network's parameters and forward pass. */
export class SpaHGCNet {
  readonly params: ParamStore;
  /** The bias of a layer the released code builds with bias=False (a constant, never trained). */
  private readonly zeros: tf.Tensor;
  constructor(readonly cfg: SpaHGCConfig) {
    const h = cfg.hidden;
    const p = this.params = new ParamStore(new Rng(cfg.seed));
    // `released`: what the authors' PyTorch modules start from — PyG/PyTorch linear defaults,
    // zero biases where theirs have none (input projections, SAGE root weights), CNDA's
    // projections N(0, 0.02²). With AdamW at lr 1e-4 a weight moves ~1e-4 per step, so over a
    // few hundred steps the starting scale shapes what is learned; `glorot` is the scheme this
    // project used first, kept for comparison.
    const released = cfg.init === "released";
    const linear: DenseInit = released ? { kind: "torch" } : { kind: "glorot" };
    const noBias: DenseInit = released ? { kind: "torch", zeroBias: true } : { kind: "glorot" };
    const cnda: DenseInit = released ? { kind: "normal", std: 0.02 } : { kind: "glorot" };
    p.dense("tIn1", cfg.dim, h, noBias);
    p.dense("tIn2", h, h, noBias);
    p.layerNorm("tInNorm", h);
    p.dense("rIn1", cfg.dim + cfg.genes, h, noBias);
    p.dense("rIn2", h, h, noBias);
    p.layerNorm("rInNorm", h);
    p.dense("refY", cfg.genes, h, noBias);
    p.layerNorm("refYNorm", h);
    // Allocated under every architecture, used by `released` only (layer norms draw no random
    // numbers, so every other layer starts from the same values either way).
    for (let l = 0; l < cfg.layers; l++) p.layerNorm(`L${l}.cnda.yNorm`, h);
    this.zeros = tf.keep(tf.zeros([h]));
    for (let l = 0; l < cfg.layers; l++) {
      for (const rel of ["ts", "rs", "csT", "csR"]) {
        p.dense(`L${l}.${rel}.lin_l`, h, h, linear);
        p.dense(`L${l}.${rel}.lin_r`, h, h, noBias);
      }
      for (const n of ["tq", "to", "rk", "rv", "ro"]) p.dense(`L${l}.cnda.${n}`, h, h, cnda);
      for (const n of ["tk", "tv", "rq"]) p.dense(`L${l}.cnda.${n}`, 2 * h, h, cnda);
    }
    for (const n of ["lin", "q", "k", "v"]) p.dense(`cnap.${n}`, h, h, linear);
    p.dense("head", h, cfg.genes, linear);
  }

  /**
   * Trainable values the configuration actually uses. Every module's weights are allocated in a
   * fixed order whatever the ablation (so shared weights start identical across ablations); the
   * ones an ablation switches off are not counted.
   */
  usedParameters(): number {
    const a = this.cfg.ablation;
    const cnda = !a.noCS && !a.noCNDA;
    const released = this.cfg.architecture === "released";
    const used = (name: string) => {
      if (released && /^(rIn2|rInNorm|refYNorm)\./.test(name)) return false;
      if (released && /^(tIn1|tIn2|rIn1|refY|L\d+\.(ts|rs|csT|csR)\.lin_r)\.b$/.test(name)) {
        return false;
      }
      if (/\.cnda\.yNorm\./.test(name)) return released && cnda;
      if (/^L\d+\.ts\./.test(name)) return !a.noTS;
      if (/^L\d+\.rs\./.test(name)) return !a.noRS;
      if (/^L\d+\.cs[TR]\./.test(name)) return !a.noCS && !!a.noCNDA;
      if (/^L\d+\.cnda\./.test(name) || name.startsWith("refY")) return cnda;
      if (/^cnap\.[qkv]\./.test(name)) return !a.noCNAP && !a.noCS;
      return true;
    };
    let n = 0;
    for (const [name, v] of this.params.vars) if (used(name)) n += v.size;
    return n;
  }

  /** Live variables as a weight lookup. */
  live(): Weights {
    return (name) => this.params.vars.get(name)!;
  }

  /**
   * Encoder: final target and reference states. `seed` set = training (dropout on), undefined =
   * inference. `xT` and `hR` may be masked views of the graph's features.
   */
  encode(
    w: Weights,
    g: GraphTensors,
    xT: tf.Tensor2D,
    hR: tf.Tensor2D,
    seed?: number,
  ): { t: tf.Tensor2D; r: tf.Tensor2D } {
    const c = this.cfg, a = c.ablation;
    const D = (n: string): Dense => ({ W: w(`${n}.W`), b: w(`${n}.b`) });
    const N = (n: string): Norm => ({ g: w(`${n}.g`), b: w(`${n}.b`) });
    let s = seed;
    const nextSeed = () => (s === undefined ? undefined : ++s);
    const released = c.architecture === "released";
    // `released`: the authors' HeteroGNN has bias-free input projections and one post_transform
    // MLP (in2 → LayerNorm) for both node types, the target's.
    const Dp = (n: string): Dense => released ? { W: w(`${n}.W`), b: this.zeros } : D(n);
    // x and hR are data (the graph's features, masked): no gradient flows into them.
    const proj = (x: tf.Tensor2D, p: string) => {
      const q = released ? "t" : p;
      return leaky(
        layerNorm(
          N(`${q}InNorm`),
          dense(
            Dp(`${q}In2`),
            dropout(leaky(denseOnData(Dp(`${p}In1`), x)), c.dropout, nextSeed()),
          ),
        ),
      );
    };
    let t = proj(xT, "t");
    let r = proj(hR, "r");
    // reference_y is projected from the expression columns of the view's reference features, so a
    // masked view hides the same entries from CNDA as from the rest of the encoder (paper eq. 11
    // feeds CNDA the masked h̃_r; the released code slices the masked x the same way).
    const yR = dataColumns(hR, c.dim, c.genes);
    // `paper`: layer-normed once. `released`: each CNDA layer norms it itself (its expr_norm), and
    // the LeakyReLU the model applies to every node state after a layer reaches reference_y too,
    // so layer l sees LayerNorm_l(LeakyReLU^l(W_y y_r)).
    let refY = released
      ? denseOnData(Dp("refY"), yR)
      : layerNorm(N("refYNorm"), denseOnData(D("refY"), yR));
    // GraphSAGE: lin_l (with bias) on the neighbours' mean + lin_r on the node itself, bias-free
    // in PyG; `paper` kept a trainable lin_r bias too (redundant with lin_l's, but it moves).
    // A message is the list of its terms; `nodeUpdate` sums them.
    const sage = (name: string, src: tf.Tensor2D, dst: tf.Tensor2D, nb: Neighbourhood) => [
      dense(D(`${name}.lin_l`), neighbourMean(src, nb)),
      dense(Dp(`${name}.lin_r`), dst),
    ];
    for (let l = 0; l < c.layers; l++) {
      const outT: tf.Tensor2D[][] = [], outR: tf.Tensor2D[][] = [];
      if (!a.noTS) outT.push(sage(`L${l}.ts`, t, t, g.ts));
      if (!a.noRS && g.rs.degree > 0) outR.push(sage(`L${l}.rs`, r, r, g.rs));
      if (!a.noCS) {
        if (!a.noCNDA) {
          const rk = concatColumns(r, released ? layerNorm(N(`L${l}.cnda.yNorm`), refY) : refY);
          const P = (n: string, x: tf.Tensor2D) => dense(D(`L${l}.cnda.${n}`), x);
          outT.push([
            P(
              "to",
              neighbourAttention(
                P("tq", t),
                P("tk", rk),
                P("tv", rk),
                g.cs,
                c.heads,
                c.attnDropout,
                nextSeed(),
              ),
            ),
          ]);
          outR.push([
            P(
              "ro",
              edgeAttention(
                P("rq", rk),
                P("rk", t),
                P("rv", t),
                g.csRev,
                c.heads,
                c.attnDropout,
                nextSeed(),
              ),
            ),
          ]);
        } else {
          outT.push(sage(`L${l}.csT`, r, t, g.cs));
          outR.push([
            dense(D(`L${l}.csR.lin_l`), edgeMean(t, g.csRev)),
            dense(Dp(`L${l}.csR.lin_r`), r),
          ]);
        }
      }
      // Mean over the relations reaching a node type, then LeakyReLU.
      if (outT.length) t = nodeUpdate(outT);
      if (outR.length) r = nodeUpdate(outR);
      if (released && l < c.layers - 1) refY = leaky(refY);
    }
    const tp = dense(D("cnap.lin"), t);
    if (!a.noCNAP && !a.noCS) {
      const H = neighbourAttention(
        dense(D("cnap.q"), tp),
        dense(D("cnap.k"), r),
        dense(D("cnap.v"), r),
        g.cs,
        c.heads,
        released ? 0 : c.attnDropout,
        nextSeed(),
      );
      t = tf.add(tp, H) as tf.Tensor2D;
    } else t = tp;
    return { t, r };
  }

  dispose(): void {
    this.params.dispose();
    this.zeros.dispose();
  }

  head(w: Weights, t: tf.Tensor2D): tf.Tensor2D {
    return dense({ W: w("head.W"), b: w("head.b") }, t);
  }

  /** Inference on the unmasked graph (asynchronous read: WebGPU cannot read back synchronously). */
  async predict(g: GraphTensors): Promise<Float32Array> {
    const out = tf.tidy(() => this.head(this.live(), this.encode(this.live(), g, g.xT, g.hR).t));
    try {
      return (await out.data()) as Float32Array;
    } finally {
      out.dispose();
    }
  }
}

/** 1 − mean over genes of Pearson r across spots (genes constant in a batch contribute r = 0). */
export function pccLoss(pred: tf.Tensor2D, y: tf.Tensor2D): tf.Scalar {
  const pc = tf.sub(pred, tf.mean(pred, 0, true)), yc = tf.sub(y, tf.mean(y, 0, true));
  const num = tf.sum(tf.mul(pc, yc), 0);
  const den = tf.sqrt(tf.add(tf.mul(tf.sum(tf.square(pc), 0), tf.sum(tf.square(yc), 0)), 1e-8));
  return tf.sub(1, tf.mean(tf.div(num, den))) as tf.Scalar;
}

/** Mean over nodes of 2 − 2·cos(a, b). */
export function contrastiveLoss(a: tf.Tensor2D, b: tf.Tensor2D): tf.Scalar {
  const na = unitRows(a), nb = unitRows(b);
  return tf.mean(tf.sub(2, tf.mul(2, tf.sum(tf.mul(na, nb), 1)))) as tf.Scalar;
}

export interface StepLosses {
  total: number;
  mse: number;
  pcc: number;
  conT: number;
  conR: number;
}

/**
 * The trainer: AdamW (PyTorch's definition, `optimizer.ts`), one optimiser step per slice graph; the target
 * encoder of view 2 is evaluated outside the gradient tape, which is what stops its gradient.
 */
export class SpaHGCTrainer {
  readonly net: SpaHGCNet;
  private optimizer: AdamW;
  private frozen?: Map<string, tf.Tensor>;
  step = 0;
  /**
   * Seconds spent so far in two parts of `trainStep`, for profiles and the epoch benchmark: the
   * second view through the target encoder, and the optimiser's update. Both run synchronously on
   * the CPU backends, so the clock around them is their cost (on WebGPU, their dispatch).
   */
  readonly timings = { targetViewSeconds: 0, optimizerSeconds: 0 };

  constructor(cfg: SpaHGCConfig, readonly lr = 1e-4, readonly weightDecay = 1e-4) {
    this.net = new SpaHGCNet(cfg);
    this.optimizer = new AdamW(this.net.params.vars, { lr, weightDecay });
    if (cfg.targetEncoder !== "paper") this.frozen = this.net.params.snapshot();
  }

  private targetWeights() {
    const f = this.frozen;
    return f ? (name: string) => f.get(name)! : this.net.live();
  }

  /** One optimiser step on one graph with targets y (nT × M). */
  async trainStep(g: GraphTensors, y: tf.Tensor2D): Promise<StepLosses> {
    const cfg = this.net.cfg;
    const seed = 1000 + 17 * this.step;
    // Masks drawn from a generator keyed by (seed, step), so a resumed run repeats them exactly.
    const rng = new Rng(cfg.seed * 7919 + this.step++);
    const useCon = cfg.masking !== "none";
    const wCon = cfg.loss === "paper" ? [1, 1, 1, 1] : [1, 0.5, 0.2, 0.1]; // mse, pcc, conT, conR
    const parts: Record<string, tf.Scalar> = {};
    tf.tidy(() => {
      const [x1, x2] = maskedViews(rng, g.xT, cfg.alpha, cfg.masking);
      const [h1, h2] = maskedViews(rng, g.hR, cfg.beta, cfg.masking);
      // View 2 through the target encoder, outside the tape: no gradient flows into it.
      const viewStart = performance.now();
      const v2 = useCon ? this.net.encode(this.targetWeights(), g, x2, h2, seed + 500) : undefined;
      if (v2) this.timings.targetViewSeconds += (performance.now() - viewStart) / 1000;
      const vars = [...this.net.params.vars.values()];
      const { value, grads } = tf.variableGrads(() => {
        const v1 = this.net.encode(this.net.live(), g, x1, h1, seed);
        const pred = this.net.head(this.net.live(), v1.t);
        const mse = tf.mean(tf.squaredDifference(pred, y)) as tf.Scalar;
        const pcc = pccLoss(pred, y);
        let total = tf.add(tf.mul(mse, wCon[0]), tf.mul(pcc, wCon[1])) as tf.Scalar;
        parts.mse = tf.keep(mse);
        parts.pcc = tf.keep(pcc);
        if (v2) {
          const ct = contrastiveLoss(v1.t, v2.t), cr = contrastiveLoss(v1.r, v2.r);
          parts.conT = tf.keep(ct);
          parts.conR = tf.keep(cr);
          total = tf.add(total, tf.add(tf.mul(ct, wCon[2]), tf.mul(cr, wCon[3]))) as tf.Scalar;
        }
        return total;
      }, vars);
      parts.total = tf.keep(value);
      const updateStart = performance.now();
      this.optimizer.apply(grads);
      this.timings.optimizerSeconds += (performance.now() - updateStart) / 1000;
      if (cfg.targetEncoder === "ema" && this.frozen) {
        for (const [k, v] of this.net.params.vars) {
          const old = this.frozen.get(k)!;
          this.frozen.set(
            k,
            tf.keep(tf.add(tf.mul(old, cfg.emaDecay), tf.mul(v, 1 - cfg.emaDecay))),
          );
          old.dispose();
        }
      }
    });
    const read = async (t?: tf.Scalar) => {
      if (!t) return 0;
      const v = (await t.data())[0];
      t.dispose();
      return v;
    };
    return {
      total: await read(parts.total),
      mse: await read(parts.mse),
      pcc: await read(parts.pcc),
      conT: await read(parts.conT),
      conR: await read(parts.conR),
    };
  }

  /**
   * The trained weights alone (a quarter of `state()`): what prediction needs, and what the
   * best epoch keeps. `restore` takes it as it takes a full state.
   */
  async weights(): Promise<
    { names: string[]; shapes: number[][]; data: Float32Array[]; step: number }
  > {
    const names: string[] = [], shapes: number[][] = [], data: Float32Array[] = [];
    for (const [k, v] of this.net.params.vars) {
      names.push(`w:${k}`);
      shapes.push(v.shape);
      data.push(await v.data() as Float32Array);
    }
    return { names, shapes, data, step: this.step };
  }

  /** All state needed to resume: weights, optimiser moments, target encoder, step. */
  async state(): Promise<
    { names: string[]; shapes: number[][]; data: Float32Array[]; step: number }
  > {
    const { names, shapes, data } = await this.weights();
    // The step count is stored as float32 (exact below 2^24 steps).
    for (const o of await this.optimizer.state()) {
      names.push(`o:${o.name}`);
      shapes.push(o.shape);
      data.push(o.data);
    }
    for (const [k, v] of this.frozen ?? []) {
      names.push(`f:${k}`);
      shapes.push(v.shape);
      data.push(await v.data() as Float32Array);
    }
    return { names, shapes, data, step: this.step };
  }

  restore(
    s: { names: string[]; shapes: number[][]; data: Float32Array[]; step: number },
  ): void {
    const opt: { name: string; shape: number[]; data: Float32Array }[] = [];
    s.names.forEach((n, i) => {
      if (n.startsWith("o:")) {
        opt.push({ name: n.slice(2), shape: s.shapes[i], data: s.data[i] });
        return;
      }
      const t = tf.tensor(s.data[i], s.shapes[i]);
      if (n.startsWith("w:")) {
        this.net.params.vars.get(n.slice(2))!.assign(t);
        t.dispose();
      } else {
        this.frozen?.get(n.slice(2))?.dispose();
        this.frozen?.set(n.slice(2), tf.keep(t));
      }
    });
    // A weights-only state (`weights()`) leaves the optimiser and the step count where they are.
    if (opt.length) {
      this.optimizer.restore(opt);
      this.step = s.step;
    }
  }

  dispose(): void {
    this.net.dispose();
    this.optimizer.dispose();
    for (const v of this.frozen?.values() ?? []) v.dispose();
  }
}
