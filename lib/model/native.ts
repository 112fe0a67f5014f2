/**
 * The C versions of the host kernels (`native/kernels.c`), compiled on first use with the
 * machine's C compiler (`$CC`, else `cc`) for the host CPU and loaded through Deno's FFI.
 *
 * The library is cached in `.cache/native/` under a name keyed by the source, the flags and the
 * CPU (model and feature flags), so a shared project folder used by different machines (a
 * cluster's nodes) gets one build per CPU kind and never runs code built for another. The build
 * is written to a temporary name and renamed, so concurrent first uses (a sweep's workers) are
 * safe. `SPAHGC_NATIVE=off` disables it; without a compiler the TypeScript kernels run instead
 * (same arithmetic, slower), and `nativeStatus` says why.
 */
import { createHash } from "node:crypto";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { PROJECT_ROOT } from "../paths.ts";

const SOURCE = join(dirname(fileURLToPath(import.meta.url)), "native", "kernels.c");
const FLAGS = ["-O3", "-march=native", "-fopenmp-simd", "-std=c11", "-shared", "-fPIC"];
/** Added where the compiler takes it (not MSVC-like ones): AdamW then uses threads. */
const THREADS = "-pthread";

// Argument types, in the C functions' order (sizes are 32-bit; scalars of AdamW are doubles).
const I = "i32", F = "f32", D = "f64", B = "buffer";
const SYMBOLS = {
  adamw_step: { parameters: [I, B, B, B, B, B, B, B, D, D, D, D, D, D], result: "void" },
  adamw_many: { parameters: [I, B, B, D, D, D, D, D, D, I], result: "void" },
  dropout_mask: { parameters: [I, B, F, B, B, B, I], result: "void" },
  csr_mean: { parameters: [I, I, B, B, B, B, I], result: "void" },
  csr_attention: { parameters: [I, I, I, B, B, B, B, B, B, I, B, B, B], result: "void" },
  csr_attention_grad: {
    parameters: [I, I, I, B, B, B, B, B, B, B, B, B, I, B, B, B, B],
    result: "void",
  },
  column_sums: { parameters: [I, I, B, B], result: "void" },
  layer_norm: { parameters: [I, I, B, B, B, F, B, B, B], result: "void" },
  layer_norm_grad: { parameters: [I, I, B, B, B, B, B, B, B], result: "void" },
  leaky_relu: { parameters: [I, B, B, F], result: "void" },
  leaky_relu_grad: { parameters: [I, B, B, B, F], result: "void" },
  masked_views: { parameters: [I, B, D, I, B, B, B], result: "void" },
  node_update: { parameters: [I, I, I, I, B, B, B, B, B, F], result: "void" },
  node_update_grad: { parameters: [I, I, B, B, B, F], result: "void" },
} as const;

/** The compiled kernels (argument order as in `kernels.c`). */
export type NativeKernels = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

let loaded: NativeKernels | null | undefined;

/** Why the C kernels are or are not available, for reports. */
export let nativeStatus = "not loaded yet";

/** The C kernels, compiled (once per source and CPU) and loaded; undefined when unavailable. */
export function loadNativeKernels(): NativeKernels | undefined {
  if (loaded !== undefined) return loaded ?? undefined;
  loaded = null;
  const setting = Deno.env.get("SPAHGC_NATIVE");
  if (setting === "off" || setting === "0") {
    nativeStatus = "disabled by SPAHGC_NATIVE";
    return undefined;
  }
  if (typeof Deno.dlopen !== "function") {
    nativeStatus = "no FFI in this runtime";
    return undefined;
  }
  const cc = Deno.env.get("CC") ?? "cc";
  try {
    const path = build(cc);
    loaded = Deno.dlopen(path, SYMBOLS).symbols;
    nativeStatus = `C (${cc} ${FLAGS.slice(0, 2).join(" ")})`;
    return loaded;
  } catch (e) {
    nativeStatus = `TypeScript (C kernels unavailable: ${(e as Error).message.split("\n")[0]})`;
    return undefined;
  }
}

/** Compiles the library unless a build for this source, these flags and this CPU exists. */
function build(cc: string): string {
  const source = Deno.readTextFileSync(SOURCE);
  const key = createHash("sha256").update(JSON.stringify({ source, cc, FLAGS, cpu: cpuId() }))
    .digest("hex").slice(0, 16);
  const dir = join(PROJECT_ROOT, ".cache", "native");
  const ext = Deno.build.os === "darwin" ? "dylib" : Deno.build.os === "windows" ? "dll" : "so";
  const lib = join(dir, `kernels-${key}.${ext}`);
  try {
    Deno.statSync(lib);
    return lib;
  } catch {
    // not built yet
  }
  Deno.mkdirSync(dir, { recursive: true });
  const tmp = `${lib}.tmp-${Deno.pid}`;
  const compile = (flags: string[]) => {
    try {
      return new Deno.Command(cc, { args: [...flags, "-o", tmp, SOURCE, "-lm"], stderr: "piped" })
        .outputSync();
    } catch (e) {
      throw new Error(`cannot run the C compiler '${cc}': ${(e as Error).message}`);
    }
  };
  let out = compile([...FLAGS, THREADS]);
  if (!out.success) out = compile(FLAGS);
  if (!out.success) {
    try {
      Deno.removeSync(tmp);
    } catch {
      // the compiler wrote nothing
    }
    const why = new TextDecoder().decode(out.stderr).trim().split("\n").slice(0, 3).join(" ");
    throw new Error(`'${cc}' failed on ${SOURCE}: ${why}`);
  }
  Deno.renameSync(tmp, lib);
  return lib;
}

/** What `-march=native` depends on: the CPU's model and feature flags (Linux), else the arch. */
function cpuId(): string {
  try {
    const info = Deno.readTextFileSync("/proc/cpuinfo");
    const field = (name: string) => info.match(new RegExp(`^${name}\\s*:\\s*(.*)$`, "m"))?.[1];
    return `${field("model name")}|${field("flags") ?? field("Features")}`;
  } catch {
    return `${Deno.build.os}-${Deno.build.arch}`;
  }
}

/**
 * Threads a C kernel may use: OPENBLAS_NUM_THREADS where set (parallel folds and sweep workers set
 * it to divide the cores, `blasThreadsEnv`), else every core.
 */
export function hostThreads(): number {
  const set = Number(Deno.env.get("OPENBLAS_NUM_THREADS"));
  return set >= 1 ? Math.floor(set) : navigator.hardwareConcurrency || 1;
}

let active: NativeKernels | undefined;

/**
 * Turns the C kernels on (when they load) or off for the host kernels; `useBackend` turns them
 * on for `wasm-blas`, so `wasm` and `cpu` stay pure TypeScript/WebAssembly. Returns whether on.
 */
export function setNativeKernels(on: boolean): boolean {
  active = on ? loadNativeKernels() : undefined;
  return active !== undefined;
}

/** The C kernels when switched on, else undefined (callers then run their TypeScript loop). */
export function nativeKernels(): NativeKernels | undefined {
  return active;
}
