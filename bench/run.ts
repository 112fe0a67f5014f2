/**
 * `deno task bench`: loads all 36 HER2+ sections (gunzip, parse, join, CSR) in fresh processes,
 * several times, and prints the median wall time and peak RSS beside the targets (≤ 10 s,
 * ≤ 2 GiB) and beside the same load done with pandas + scipy in the same run, as ratios.
 * Options: --runs N (default 3), --json.
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { DATASETS, PROJECT_ROOT, resolveDatasetDir } from "../lib/mod.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { runs: { type: "string", default: "3" }, json: { type: "boolean" } },
});
const runs = Number(values.runs);
const dir = resolveDatasetDir(DATASETS.find((d) => d.name === "her2st")!);

interface Sample {
  seconds: number;
  peakRssBytes: number;
  spots: number;
  nnz: number;
}

function once(cmd: string, args: string[]): Sample {
  const r = new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).outputSync();
  if (!r.success) throw new Error(`${cmd} failed: ${new TextDecoder().decode(r.stderr)}`);
  return JSON.parse(new TextDecoder().decode(r.stdout).trim().split("\n").pop()!);
}

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
const ours: Sample[] = [], pandas: Sample[] = [];
const havePandas = new Deno.Command("/usr/bin/python3", {
  args: ["-c", "import pandas, scipy"],
  stdout: "null",
  stderr: "null",
}).outputSync().success;
for (let i = 0; i < runs; i++) {
  // Alternate the two so drift in machine speed affects both alike.
  ours.push(once(Deno.execPath(), ["run", "-A", join(PROJECT_ROOT, "bench/her2st_load.ts"), dir]));
  if (havePandas) {
    pandas.push(once("/usr/bin/python3", [join(PROJECT_ROOT, "bench/her2st_load_pandas.py"), dir]));
  }
}
const GiB = 2 ** 30;
const res = {
  benchmark: "load all HER2+ sections (gunzip, parse, join, CSR)",
  runs,
  sections: 36,
  spots: ours[0].spots,
  nnz: ours[0].nnz,
  ours: {
    seconds: median(ours.map((s) => s.seconds)),
    peakRssGiB: median(ours.map((s) => s.peakRssBytes)) / GiB,
  },
  target: { seconds: 10, peakRssGiB: 2 },
  pandas: havePandas
    ? {
      seconds: median(pandas.map((s) => s.seconds)),
      peakRssGiB: median(pandas.map((s) => s.peakRssBytes)) / GiB,
      spots: pandas[0].spots,
      nnz: pandas[0].nnz,
    }
    : null,
};
if (values.json) console.log(JSON.stringify(res, null, 2));
else {
  const f = (x: number) => x.toFixed(2);
  console.log(
    `${res.benchmark}: ${res.sections} sections, ${res.spots} spots, ${res.nnz} non-zeros; median of ${runs} fresh processes`,
  );
  console.log(`  ours      ${f(res.ours.seconds)} s   peak RSS ${f(res.ours.peakRssGiB)} GiB`);
  console.log(
    `  target    ${f(res.target.seconds)} s   peak RSS ${
      f(res.target.peakRssGiB)
    } GiB   → ours/target: time ${f(res.ours.seconds / 10)}, memory ${
      f(res.ours.peakRssGiB / 2)
    } (≤ 1 meets it)`,
  );
  if (res.pandas) {
    console.log(
      `  pandas    ${f(res.pandas.seconds)} s   peak RSS ${
        f(res.pandas.peakRssGiB)
      } GiB   → ours/pandas: time ${f(res.ours.seconds / res.pandas.seconds)}, memory ${
        f(res.ours.peakRssGiB / res.pandas.peakRssGiB)
      }`,
    );
    if (res.pandas.spots !== res.spots || res.pandas.nnz !== res.nnz) {
      console.log("  WARNING: pandas and ours disagree on spots/non-zeros");
    }
  } else console.log("  pandas    not available (python3-pandas); no side-by-side reference");
}
