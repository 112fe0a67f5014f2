/**
 * What the result studies (`bench/fidelity.ts`, `bench/her2st.ts`) share: training one
 * configuration through the `spahgc train` command into its run folder (resumable: finished folds
 * are kept and reused, a folder from other settings, inputs or code is refused), a pool that keeps
 * N such runs going, reading a finished folder back, and a small JSON store of each run's
 * per-slice numbers committed beside the page, so a table can be regenerated after the (large,
 * git-ignored) run folders are gone.
 */
import { join } from "node:path";
import { PROJECT_ROOT } from "../lib/paths.ts";

/** Spawns `spahgc train <args> --out dir`, its standard error appended to `dir/train.log`. */
export async function trainInto(dir: string, args: string[], label: string): Promise<boolean> {
  Deno.mkdirSync(dir, { recursive: true });
  const log = Deno.openSync(join(dir, "train.log"), { create: true, append: true, write: true });
  const t0 = performance.now();
  const p = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", join(PROJECT_ROOT, "lib/cli/main.ts"), "train", ...args, "--out", dir],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  // Chunk by chunk, so the log can be followed while a run goes on.
  for await (const chunk of p.stderr) log.writeSync(chunk);
  const { code } = await p.status;
  log.close();
  console.error(
    `${label}: ${code === 0 ? "done" : `FAILED (exit ${code}, see ${dir}/train.log)`} in ${
      ((performance.now() - t0) / 60000).toFixed(1)
    } min`,
  );
  return code === 0;
}

/** Runs the jobs, `parallel` at a time, in the order given. */
export async function pool(jobs: (() => Promise<unknown>)[], parallel: number): Promise<void> {
  const queue = [...jobs];
  await Promise.all(
    Array.from({ length: Math.max(1, parallel) }, async () => {
      while (queue.length) await queue.shift()!();
    }),
  );
}

/** One test slice of a finished run, as its metrics file has it. */
export interface SliceResult {
  test: string;
  pcc: number;
  rmse: number;
  seconds: number;
  bestEpoch?: number;
  validationPcc?: number | null;
  validationSlice?: string | null;
}

/** A finished run: its slices' results and the code version that made them. */
export interface StoredRun {
  code: string;
  slices: SliceResult[];
}

/** A run folder's results for `tests`, or undefined while one is missing. */
export function readRunFolder(dir: string, tests: string[]): StoredRun | undefined {
  try {
    const cfg = JSON.parse(Deno.readTextFileSync(join(dir, "config.json")));
    const slices = tests.map((t) => {
      const m = JSON.parse(Deno.readTextFileSync(join(dir, `${t}.metrics.json`)));
      return {
        test: t,
        pcc: m.pcc,
        rmse: m.rmse,
        seconds: m.seconds,
        bestEpoch: m.selection?.bestEpoch,
        validationPcc: m.selection?.validationPcc ?? null,
        validationSlice: m.selection?.validationSlice ?? null,
      };
    });
    return { code: cfg.code, slices };
  } catch {
    return undefined;
  }
}

/**
 * The store: run name → results. A run folder, when present, wins over (and refreshes) the
 * stored entry; a stored entry stands in for a folder that is gone.
 */
export class RunStore {
  private runs: Record<string, StoredRun>;
  constructor(readonly file: string) {
    try {
      this.runs = JSON.parse(Deno.readTextFileSync(file)).runs;
    } catch {
      this.runs = {};
    }
  }
  get(name: string, dir: string, tests: string[]): StoredRun | undefined {
    const fresh = readRunFolder(dir, tests);
    if (fresh) this.runs[name] = fresh;
    return fresh ?? this.runs[name];
  }
  save(about: string): void {
    const sorted = Object.fromEntries(Object.entries(this.runs).sort(([a], [b]) => a < b ? -1 : 1));
    Deno.writeTextFileSync(this.file, JSON.stringify({ about, runs: sorted }, null, 1) + "\n");
  }
}

export const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
export const f3 = (x: number) => x.toFixed(3);
