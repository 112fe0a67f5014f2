/**
 * HER2+ breast cancer (Andersson et al., Nat. Commun. 2021): legacy ST, 36 sections of 8
 * patients; the project's real cohort. Its studies use the 6 sections with full-resolution
 * images and HisToGene's 785-gene list, as SpaHGC's released code does.
 */
import { join } from "node:path";
import { DataError } from "../errors.ts";
import { exists } from "../io/files.ts";
import { readHer2st } from "../io/her2st.ts";
import type { DatasetSpec } from "./spec.ts";

/** The HER2+ sections with full-resolution images (the folds of every HER2+ study here). */
export const HER2_IMAGED = ["B4", "C2", "C3", "C4", "C5", "C6"];

export const HER2ST: DatasetSpec = {
  name: "her2st",
  description: "HER2+ breast cancer, legacy ST, 36 sections of 8 patients (Andersson et al. 2021)",
  folder: "her2st",
  source:
    "git clone https://github.com/almaan/her2st, then copy its data/ST-cnts, data/ST-spotfiles, data/ST-imgs, data/ST-pat and res/ST-cluster into DATA_DIR/her2st/ (`spahgc data fetch her2st` does this)",
  markers: ["ST-cnts"],
  genes: "histogene",
  cvSlices: HER2_IMAGED,
  studyNote:
    "HER2+ (Andersson et al.): the 6 sections with full-resolution images (B4, C2–C6), 785 genes (HisToGene's recipe), built-in image features",
  load: (dir, o) => readHer2st(dir!, { sections: o.slices, log: o.log }),
  fetch: fetchHer2st,
};

/** Clones almaan/her2st and moves its data folders into `target`. */
async function fetchHer2st(target: string): Promise<string> {
  const tmp = Deno.makeTempDirSync({ prefix: "her2st-clone-" });
  const timer = AbortSignal.timeout(600_000);
  const clone = new Deno.Command("git", {
    signal: timer,
    args: ["clone", "--depth", "1", "https://github.com/almaan/her2st", join(tmp, "her2st")],
    env: { GIT_TERMINAL_PROMPT: "0" },
    stdout: "piped",
    stderr: "piped",
  });
  const out = await clone.spawn().output();
  if (!out.success || timer.aborted) {
    Deno.removeSync(tmp, { recursive: true });
    throw new DataError(
      `could not clone almaan/her2st (${
        new TextDecoder().decode(out.stderr).trim().split("\n").pop()
      }). ` +
        `Without network access, copy the dataset by hand so that ${target} holds ST-cnts/, ST-spotfiles/, ST-imgs/, ST-pat/lbl/ ` +
        `(from the repository's data/) and ST-cluster/lbl/ (from res/ST-cluster/lbl), or point SPAHGC_DATA_DIR at a folder holding her2st/.`,
    );
  }
  Deno.mkdirSync(target, { recursive: true });
  const src = join(tmp, "her2st");
  for (
    const [from, to] of [
      ["data/ST-cnts", "ST-cnts"],
      ["data/ST-spotfiles", "ST-spotfiles"],
      ["data/ST-imgs", "ST-imgs"],
      ["data/ST-pat", "ST-pat"],
      ["res/ST-cluster", "ST-cluster"],
    ]
  ) {
    if (exists(join(src, from))) Deno.renameSync(join(src, from), join(target, to));
  }
  Deno.removeSync(tmp, { recursive: true });
  return `fetched almaan/her2st into ${target}`;
}
