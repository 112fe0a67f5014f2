/*
 * SpaHGC's host kernels in C: the same loops as the TypeScript kernels beside them
 * (message_passing.ts, optimizer.ts, layers.ts), compiled on first use by `native.ts` with the
 * machine's C compiler and called through Deno's FFI on the same float32 buffers (TF.js's cpu
 * arrays or views of the wasm heap), so nothing is copied.
 *
 * Why C: these loops are memory- and latency-bound scalar code in JavaScript (V8 neither
 * vectorises nor uses float32 arithmetic); compiled for the host CPU they run on SIMD lanes.
 * No library offers fused CSR attention with its exact backward for float32 buffers we do not
 * own, which is what this file is.
 *
 * Conventions: row-major float32 matrices; a CSR relation lists destination i's sources in
 * sources[offsets[i] .. offsets[i+1]); outputs of the message-passing kernels arrive
 * zero-filled. Dot products accumulate in float with vector reductions (`omp simd`), so results
 * differ from the TypeScript kernels (which accumulate in double) by rounding only.
 */
#include <math.h>
#include <stdint.h>
#ifndef _WIN32
#include <pthread.h>
#endif

#define SLOPE 0.2f

/*
 * The fused AdamW update (PyTorch's definition) of n entries: w2, m2, v2 from w, g, m, v. The
 * outputs may be the inputs themselves (in place: each entry is read before it is written), so
 * the pointers are not `restrict`; `omp simd` tells the compiler the loop vectorises anyway.
 */
static inline void adamw_span(int64_t n, const float *w, const float *g, const float *m,
                              const float *v, float *w2, float *m2, float *v2, float fd, float fs,
                              float fr, float b1, float b2, float c1, float c2, float fe) {
#pragma omp simd
  for (int64_t i = 0; i < n; i++) {
    const float gi = g[i];
    const float mi = b1 * m[i] + c1 * gi, vi = b2 * v[i] + c2 * gi * gi;
    const float wi = w[i] * fd - (fs * mi) / (sqrtf(vi) * fr + fe);
    m2[i] = mi;
    v2[i] = vi;
    w2[i] = wi;
  }
}

/* One thread's share of `adamw_many`: entries [lo, hi) of the concatenated tensors. */
typedef struct {
  int32_t count;
  const int32_t *sizes;
  const uint64_t *ptrs;
  int64_t lo, hi;
  float fd, fs, fr, b1, b2, c1, c2, fe;
} AdamwRange;

static void *adamw_range(void *arg) {
  const AdamwRange *r = (const AdamwRange *)arg;
  int64_t base = 0;
  for (int32_t c = 0; c < r->count && base < r->hi; c++) {
    const int64_t s = base > r->lo ? base : r->lo;
    const int64_t e = base + r->sizes[c] < r->hi ? base + r->sizes[c] : r->hi;
    if (s < e) {
      const int64_t o = s - base;
      float *w = (float *)(uintptr_t)r->ptrs[4 * c] + o;
      float *m = (float *)(uintptr_t)r->ptrs[4 * c + 2] + o;
      float *v = (float *)(uintptr_t)r->ptrs[4 * c + 3] + o;
      adamw_span(e - s, w, (const float *)(uintptr_t)r->ptrs[4 * c + 1] + o, m, v, w, m, v, r->fd,
                 r->fs, r->fr, r->b1, r->b2, r->c1, r->c2, r->fe);
    }
    base += r->sizes[c];
  }
  return 0;
}

/*
 * One AdamW step over `count` parameter tensors at once, in place. `ptrs` holds 4 addresses per
 * tensor (w, g, m, v); `sizes` their lengths. The concatenated entries are split into equal
 * contiguous ranges, one per thread: the update is bound by memory bandwidth, which one core of
 * the machines measured here does not saturate (5.1 M parameters: 17 ms on one thread, 8–10 ms
 * on two). The threads are started and joined within the call (~50 µs): a thread pool that
 * outlived it (OpenMP's) crashed the process at exit, when Deno unloads this library under it.
 */
void adamw_many(int32_t count, const int32_t *restrict sizes, const uint64_t *restrict ptrs,
                double decay, double step, double root, double beta1, double beta2, double eps,
                int32_t threads) {
  int64_t total = 0;
  for (int32_t c = 0; c < count; c++) total += sizes[c];
  AdamwRange r = {count, sizes, ptrs, 0, total, (float)decay, (float)step, (float)root,
                  (float)beta1, (float)beta2, (float)(1 - beta1), (float)(1 - beta2), (float)eps};
#ifndef _WIN32
  enum { MAX_THREADS = 16 };
  const int32_t T = threads < 1 ? 1 : threads > MAX_THREADS ? MAX_THREADS : threads;
  if (T > 1 && total > 65536) {
    AdamwRange parts[MAX_THREADS];
    pthread_t ids[MAX_THREADS];
    int started[MAX_THREADS] = {0};
    for (int32_t t = 0; t < T; t++) {
      parts[t] = r;
      parts[t].lo = total * t / T;
      parts[t].hi = total * (t + 1) / T;
    }
    for (int32_t t = 1; t < T; t++) started[t] = pthread_create(&ids[t], 0, adamw_range, &parts[t]) == 0;
    adamw_range(&parts[0]);
    for (int32_t t = 1; t < T; t++) {
      if (started[t]) pthread_join(ids[t], 0);
      else adamw_range(&parts[t]); /* no thread to be had: this share here */
    }
    return;
  }
#endif
  adamw_range(&r);
}

/* The same update out of place (w2, m2, v2 from w, g, m, v), for tensors that share a buffer. */
void adamw_step(int32_t n, const float *restrict w, const float *restrict g,
                const float *restrict m, const float *restrict v, float *restrict w2,
                float *restrict m2, float *restrict v2, double decay, double step, double root,
                double beta1, double beta2, double eps) {
  adamw_span(n, w, g, m, v, w2, m2, v2, (float)decay, (float)step, (float)root, (float)beta1,
             (float)beta2, (float)(1 - beta1), (float)(1 - beta2), (float)eps);
}

/*
 * Mean over each destination's sources: forward out[dst] = mean x[src] ([nDst, F] out);
 * backward (the transpose) out[src] += dy[dst] / degree(dst) ([nSrc, F] out).
 */
void csr_mean(int32_t nDst, int32_t F, const int32_t *restrict offsets,
              const int32_t *restrict sources, const float *restrict x, float *restrict out,
              int32_t backward) {
  for (int32_t i = 0; i < nDst; i++) {
    const int32_t e0 = offsets[i], e1 = offsets[i + 1];
    if (e1 == e0) continue;
    const float w = 1.0f / (float)(e1 - e0);
    for (int32_t e = e0; e < e1; e++) {
      const float *from = backward ? x + (int64_t)i * F : x + (int64_t)sources[e] * F;
      float *to = backward ? out + (int64_t)sources[e] * F : out + (int64_t)i * F;
#pragma omp simd
      for (int32_t j = 0; j < F; j++) to[j] += w * from[j];
    }
  }
}

/*
 * Multi-head attention of each destination over its sources: z = q·k/√dh, a = LeakyReLU(z),
 * softmax over the destination's edges, optional dropout mask, out = Σ attn·drop·v.
 * attn [E, H] receives the softmax weights before dropout, pre [E, H] the scores z.
 */
void csr_attention(int32_t nDst, int32_t heads, int32_t dh, const int32_t *restrict offsets,
                   const int32_t *restrict sources, const float *restrict q,
                   const float *restrict k, const float *restrict v, const float *restrict drop,
                   int32_t hasDrop, float *restrict out, float *restrict attn,
                   float *restrict pre) {
  const int32_t W = heads * dh;
  const float scale = 1.0f / sqrtf((float)dh);
  for (int32_t i = 0; i < nDst; i++) {
    const int32_t e0 = offsets[i], e1 = offsets[i + 1];
    for (int32_t h = 0; h < heads; h++) {
      const float *qi = q + (int64_t)i * W + h * dh;
      float *oi = out + (int64_t)i * W + h * dh;
      float max = -INFINITY;
      for (int32_t e = e0; e < e1; e++) {
        const float *ke = k + (int64_t)sources[e] * W + h * dh;
        float dot = 0;
#pragma omp simd reduction(+ : dot)
        for (int32_t j = 0; j < dh; j++) dot += qi[j] * ke[j];
        const float z = dot * scale, a = z > 0 ? z : SLOPE * z;
        pre[(int64_t)e * heads + h] = z;
        attn[(int64_t)e * heads + h] = a;
        if (a > max) max = a;
      }
      float sum = 0;
      for (int32_t e = e0; e < e1; e++) {
        const float x = expf(attn[(int64_t)e * heads + h] - max);
        attn[(int64_t)e * heads + h] = x;
        sum += x;
      }
      for (int32_t e = e0; e < e1; e++) {
        const float a = (attn[(int64_t)e * heads + h] /= sum);
        const float w = hasDrop ? a * drop[(int64_t)e * heads + h] : a;
        if (w == 0) continue;
        const float *ve = v + (int64_t)sources[e] * W + h * dh;
#pragma omp simd
        for (int32_t j = 0; j < dh; j++) oi[j] += w * ve[j];
      }
    }
  }
}

/* The exact backward pass of csr_attention: dq, dk, dv (zero-filled) from dy. */
void csr_attention_grad(int32_t nDst, int32_t heads, int32_t dh, const int32_t *restrict offsets,
                        const int32_t *restrict sources, const float *restrict dy,
                        const float *restrict q, const float *restrict k,
                        const float *restrict v, const float *restrict attn,
                        const float *restrict pre, const float *restrict drop, int32_t hasDrop,
                        float *restrict dq, float *restrict dk, float *restrict dv,
                        float *restrict scratch) {
  const int32_t W = heads * dh;
  const float scale = 1.0f / sqrtf((float)dh);
  for (int32_t i = 0; i < nDst; i++) {
    const int32_t e0 = offsets[i], e1 = offsets[i + 1];
    for (int32_t h = 0; h < heads; h++) {
      const int64_t qo = (int64_t)i * W + h * dh;
      const float *dyi = dy + qo, *qi = q + qo;
      float *dqi = dq + qo;
      /* out = Σ a·drop·v: gradients into v and into the softmax weights. */
      float weighted = 0;
      for (int32_t e = e0; e < e1; e++) {
        const int64_t eh = (int64_t)e * heads + h;
        const float a = attn[eh], d = hasDrop ? drop[eh] : 1.0f, ad = a * d;
        const int64_t vo = (int64_t)sources[e] * W + h * dh;
        const float *ve = v + vo;
        float *dve = dv + vo;
        float gsum = 0;
#pragma omp simd reduction(+ : gsum)
        for (int32_t j = 0; j < dh; j++) {
          gsum += dyi[j] * ve[j];
          dve[j] += ad * dyi[j];
        }
        scratch[e - e0] = gsum * d;
        weighted += a * scratch[e - e0];
      }
      /* Softmax, then LeakyReLU, then the scaled dot product. */
      for (int32_t e = e0; e < e1; e++) {
        const int64_t eh = (int64_t)e * heads + h;
        const float ds = attn[eh] * (scratch[e - e0] - weighted);
        const float dz = ds * (pre[eh] > 0 ? 1.0f : SLOPE) * scale;
        if (dz == 0) continue;
        const int64_t ko = (int64_t)sources[e] * W + h * dh;
        const float *ke = k + ko;
        float *dke = dk + ko;
#pragma omp simd
        for (int32_t j = 0; j < dh; j++) {
          dqi[j] += dz * ke[j];
          dke[j] += dz * qi[j];
        }
      }
    }
  }
}

/* Σ over rows ([n, F] → [F], out zero-filled): a bias gradient. */
void column_sums(int32_t n, int32_t F, const float *restrict x, float *restrict out) {
  for (int32_t i = 0; i < n; i++) {
    const float *row = x + (int64_t)i * F;
#pragma omp simd
    for (int32_t j = 0; j < F; j++) out[j] += row[j];
  }
}

/* Row-wise layer norm (population variance): y, x̂ = (x − mean)·rstd, rstd = 1/√(var + eps). */
void layer_norm(int32_t n, int32_t F, const float *restrict x, const float *restrict g,
                const float *restrict b, float eps, float *restrict y, float *restrict xhat,
                float *restrict rstd) {
  for (int32_t i = 0; i < n; i++) {
    const float *row = x + (int64_t)i * F;
    float *yi = y + (int64_t)i * F, *hi = xhat + (int64_t)i * F;
    float mean = 0, var = 0;
#pragma omp simd reduction(+ : mean)
    for (int32_t j = 0; j < F; j++) mean += row[j];
    mean /= (float)F;
#pragma omp simd reduction(+ : var)
    for (int32_t j = 0; j < F; j++) var += (row[j] - mean) * (row[j] - mean);
    const float r = 1.0f / sqrtf(var / (float)F + eps);
    rstd[i] = r;
#pragma omp simd
    for (int32_t j = 0; j < F; j++) {
      const float h = (row[j] - mean) * r;
      hi[j] = h;
      yi[j] = h * g[j] + b[j];
    }
  }
}

/* Its gradient: dx per row; dg = Σ dy·x̂ and db = Σ dy over rows (dg, db zero-filled). */
void layer_norm_grad(int32_t n, int32_t F, const float *restrict dy, const float *restrict xhat,
                     const float *restrict rstd, const float *restrict g, float *restrict dx,
                     float *restrict dg, float *restrict db) {
  for (int32_t i = 0; i < n; i++) {
    const float *dyi = dy + (int64_t)i * F, *hi = xhat + (int64_t)i * F;
    float *dxi = dx + (int64_t)i * F;
    float a = 0, c = 0;
#pragma omp simd reduction(+ : a, c)
    for (int32_t j = 0; j < F; j++) {
      const float t = dyi[j] * g[j];
      a += t;
      c += t * hi[j];
      dg[j] += dyi[j] * hi[j];
      db[j] += dyi[j];
    }
    a /= (float)F;
    c /= (float)F;
#pragma omp simd
    for (int32_t j = 0; j < F; j++) dxi[j] = rstd[i] * (dyi[j] * g[j] - a - hi[j] * c);
  }
}

/* LeakyReLU: out = x where x > 0, else slope·x. */
void leaky_relu(int32_t n, const float *restrict x, float *restrict out, float slope) {
#pragma omp simd
  for (int32_t i = 0; i < n; i++) out[i] = x[i] > 0 ? x[i] : slope * x[i];
}

/* LeakyReLU's gradient: out = dy where x > 0, else slope·dy. */
void leaky_relu_grad(int32_t n, const float *restrict x, const float *restrict dy,
                     float *restrict out, float slope) {
#pragma omp simd
  for (int32_t i = 0; i < n; i++) out[i] = x[i] > 0 ? dy[i] : slope * dy[i];
}

/*
 * Dropout's multiplier, exactly as TF.js's `tf.dropout(x, rate, undefined, seed)` makes it:
 * u from seedrandom's Alea generator (state s0, s1, s2, c, seeded in `dropout.ts` and carried on
 * through `state`), rounded to float, then floor(u + keep) / keep in float arithmetic. With `x`,
 * also y = x · multiplier.
 */
void dropout_mask(int32_t n, double *restrict state, float keep, float *restrict mask,
                  const float *restrict x, float *restrict y, int32_t apply) {
  double s0 = state[0], s1 = state[1], s2 = state[2], c = state[3];
  for (int32_t i = 0; i < n; i++) {
    const double t = 2091639.0 * s0 + c * 2.3283064365386963e-10;
    s0 = s1;
    s1 = s2;
    c = (double)(int32_t)t;
    s2 = t - c;
    const float u = (float)s2;
    mask[i] = floorf(u + keep) / keep;
  }
  state[0] = s0;
  state[1] = s1;
  state[2] = s2;
  state[3] = c;
  if (apply) {
#pragma omp simd
    for (int32_t i = 0; i < n; i++) y[i] = x[i] * mask[i];
  }
}

/* xoshiro128** (`Rng` in util/random.ts): the next 32-bit output, advancing the state in place. */
static inline uint32_t rotl32(uint32_t x, int k) { return (x << k) | (x >> (32 - k)); }
static inline uint32_t xoshiro128ss(uint32_t *s) {
  const uint32_t result = rotl32(s[1] * 5u, 7) * 9u;
  const uint32_t t = s[1] << 9;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl32(s[3], 11);
  return result;
}

/*
 * The two masked views of x for a training step (spahgc.ts: `viewMasks`, then x · mask): each
 * entry is masked with probability `ratio`, one draw of the generator `state` (4 words, advanced
 * in place) per entry; view 1 keeps the unmasked entries, view 2 the masked ones (`random` 0:
 * complementary) or, with `random` 1, a second draw of its own per entry.
 */
void masked_views(int32_t n, uint32_t *restrict state, double ratio, int32_t random,
                  const float *restrict x, float *restrict v1, float *restrict v2) {
  uint32_t s[4] = {state[0], state[1], state[2], state[3]};
  for (int32_t i = 0; i < n; i++) {
    const int masked = (double)xoshiro128ss(s) / 4294967296.0 < ratio;
    float keep2 = masked ? 1.0f : 0.0f;
    if (random) keep2 = (double)xoshiro128ss(s) / 4294967296.0 < ratio ? 0.0f : 1.0f;
    v1[i] = x[i] * (masked ? 0.0f : 1.0f);
    v2[i] = x[i] * keep2;
  }
  for (int k = 0; k < 4; k++) state[k] = s[k];
}

/*
 * A layer's node update (layers.ts `nodeUpdate`): y = LeakyReLU(mean over relations of each
 * relation's summed terms), for one or two relations of one or two terms each (GraphSAGE's
 * neighbour and root terms, CNDA's one), a..d the terms in order (unused ones repeat a). The
 * arithmetic is the TF.js ops' it replaces, in their order: a relation's terms added left to
 * right; two relations summed from zero as `addN` does, then divided by 2; then LeakyReLU.
 */
void node_update(int32_t n, int32_t relations, int32_t size0, int32_t size1,
                 const float *restrict a, const float *restrict b, const float *restrict c,
                 const float *restrict d, float *restrict y, float slope) {
  const float *second = size0 == 2 ? c : b, *second2 = size0 == 2 ? d : c;
  if (relations == 1) {
#pragma omp simd
    for (int32_t i = 0; i < n; i++) {
      const float v = size0 == 2 ? a[i] + b[i] : a[i];
      y[i] = v > 0 ? v : slope * v;
    }
    return;
  }
#pragma omp simd
  for (int32_t i = 0; i < n; i++) {
    const float s0 = size0 == 2 ? a[i] + b[i] : a[i];
    const float s1 = size1 == 2 ? second[i] + second2[i] : second[i];
    const float v = ((0.0f + s0) + s1) / 2.0f;
    y[i] = v > 0 ? v : slope * v;
  }
}

/* Its gradient, the same for every term: dy where y > 0, else slope·dy; ÷ 2 for two relations. */
void node_update_grad(int32_t n, int32_t relations, const float *restrict y,
                      const float *restrict dy, float *restrict out, float slope) {
#pragma omp simd
  for (int32_t i = 0; i < n; i++) {
    const float g = y[i] > 0 ? dy[i] : slope * dy[i];
    out[i] = relations == 2 ? g / 2.0f : g;
  }
}
