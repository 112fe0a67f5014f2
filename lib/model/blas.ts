/**
 * Single-precision matrix products through the system's BLAS (OpenBLAS or Apple Accelerate),
 * called with Deno's FFI.
 *
 * Why: TensorFlow.js's wasm backend multiplies matrices with XNNPACK on one thread at about
 * 27 GFLOP/s here, and matrix products are most of a SpaHGC training step. OpenBLAS's sgemm,
 * already on the machine as a dependency of python3-scipy, reaches 130–180 GFLOP/s on the same
 * two cores for the model's shapes (494×256 by 256×256 and the like). Writing a faster GEMM by
 * hand would only re-create what BLAS libraries spend years tuning, so the product is delegated.
 *
 * The library is looked up by name (`SPAHGC_BLAS` may give a path, or `off` to disable it);
 * when none loads, `loadBlas()` returns undefined and callers keep TF.js's own kernel.
 */

/** `C ← A·B + β·C` in row-major layout, with optional transposes, as cblas_sgemm computes it. */
export interface Blas {
  /** The library actually loaded and its own description (OpenBLAS: version, core, threads). */
  readonly description: string;
  /**
   * Row-major product of an m×k matrix (A, or Aᵀ when `transA`) and a k×n matrix (B, or Bᵀ when
   * `transB`) into the m×n matrix C: overwriting it (β = 0, the default) or added to β·C. Arrays may be views into any ArrayBuffer
   * (the wasm backend passes views of its heap, so nothing is copied).
   */
  sgemm(
    transA: boolean,
    transB: boolean,
    m: number,
    n: number,
    k: number,
    a: Float32Array,
    b: Float32Array,
    c: Float32Array,
    beta?: number,
  ): void;
}

const CANDIDATES = [
  "libopenblas.so.0",
  "libopenblas.so",
  "libopenblas.dylib",
  "/opt/homebrew/opt/openblas/lib/libopenblas.dylib",
  "/System/Library/Frameworks/Accelerate.framework/Accelerate",
];

const SYMBOLS = {
  cblas_sgemm: {
    parameters: [
      "i32", // order
      "i32", // transA
      "i32", // transB
      "i32", // m
      "i32", // n
      "i32", // k
      "f32", // alpha
      "buffer", // A
      "i32", // lda
      "buffer", // B
      "i32", // ldb
      "f32", // beta
      "buffer", // C
      "i32", // ldc
    ],
    result: "void",
  },
} as const;

const ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112;

let cached: Blas | null | undefined;

/** The system BLAS, loaded once; undefined when disabled or not found (reason in `blasStatus`). */
export function loadBlas(): Blas | undefined {
  if (cached !== undefined) return cached ?? undefined;
  cached = null;
  const setting = Deno.env.get("SPAHGC_BLAS");
  if (setting === "off" || setting === "0") {
    blasStatus = "disabled by SPAHGC_BLAS";
    return undefined;
  }
  if (typeof Deno.dlopen !== "function") {
    blasStatus = "no FFI in this runtime";
    return undefined;
  }
  const tried: string[] = [];
  for (const path of setting ? [setting] : CANDIDATES) {
    try {
      const lib = Deno.dlopen(path, SYMBOLS);
      const sgemm = lib.symbols.cblas_sgemm;
      cached = {
        description: describe(path),
        sgemm(transA, transB, m, n, k, a, b, c, beta = 0) {
          if (m === 0 || n === 0) return;
          if (k === 0) {
            if (beta === 0) c.fill(0);
            else if (beta !== 1) c.forEach((v, i) => (c[i] = beta * v));
            return;
          }
          sgemm(
            ROW_MAJOR,
            transA ? TRANS : NO_TRANS,
            transB ? TRANS : NO_TRANS,
            m,
            n,
            k,
            1,
            a as Float32Array<ArrayBuffer>,
            transA ? m : k,
            b as Float32Array<ArrayBuffer>,
            transB ? k : n,
            beta,
            c as Float32Array<ArrayBuffer>,
            n,
          );
        },
      };
      blasStatus = cached.description;
      return cached;
    } catch (e) {
      tried.push(`${path}: ${(e as Error).message.split("\n")[0]}`);
    }
  }
  blasStatus = `no BLAS library found (${tried.join("; ")})`;
  return undefined;
}

/** Why BLAS is or is not in use, for reports. */
export let blasStatus = "not loaded yet";

function describe(path: string): string {
  if (!path.includes("openblas")) return path.split("/").pop()!;
  try {
    const lib = Deno.dlopen(path, {
      openblas_get_config: { parameters: [], result: "pointer" },
      openblas_get_num_threads: { parameters: [], result: "i32" },
    });
    const p = lib.symbols.openblas_get_config();
    const config = p ? Deno.UnsafePointerView.getCString(p) : "OpenBLAS";
    const threads = lib.symbols.openblas_get_num_threads();
    // "OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH NO_AFFINITY Cooperlake MAX_THREADS=64"
    const [name, version] = config.split(" ");
    const core = config.split(" ").find((w) => /^[A-Z][a-z]+[A-Za-z0-9]*$/.test(w) && w !== name);
    return `${name} ${version}${core ? ` ${core}` : ""}, ${threads} thread${
      threads === 1 ? "" : "s"
    }`;
  } catch {
    return path;
  }
}
