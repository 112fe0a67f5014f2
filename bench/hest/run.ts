/**
 * `deno task bench --only hest` (or `deno run -A bench/hest/run.ts [--parts roundtrip,speed,large]`):
 *
 * 1. roundtrip — HER2+ B4, C2–C6 written into HEST's layout (`writeHest`, lossless LZW WSI) and
 *    read back by the HEST reader: spots, genes, counts and coordinates compared with the native
 *    reader, and ridge leave-one-section-out PCC per section on each (native; HEST from
 *    patches/*.h5; HEST from the WSI; HEST with the native embeddings, which must be identical).
 * 2. speed — the built-in encoder's patches per second on the six sections from patches/*.h5 and
 *    from the tiled WSIs, each in a fresh process with its peak RSS.
 * 3. large — a 50,000 × 50,000 px tiled pyramidal TIFF (an H&E crop tiled, JPEG) with a spot
 *    every 200 px (62,500 spots): patches cut from bands vs from the slide decoded whole, peak
 *    RSS of each and their ratio, and the encoder over bands.
 * One JSON object at the end (`--json` prints only it).
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { loadDataset, PROJECT_ROOT, WarningLog } from "../../lib/mod.ts";
import { HER2_IMAGED } from "../../lib/datasets/her2st.ts";
import { defaultGeneParams } from "../../lib/datasets/registry.ts";
import { selectGenes } from "../../lib/preprocess/hvg.ts";
import { writeHest } from "../../lib/datasets/hest_export.ts";
import { builtinExtractor, sliceFeatures } from "../../lib/features/extractors.ts";
import { exportEmbeddingsCsv } from "../../lib/features/export.ts";
import { runExperiment } from "../../lib/train/run_config.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    parts: { type: "string", default: "roundtrip,speed,large" },
    work: { type: "string", default: "/tmp/spahgc-bench-hest" },
    side: { type: "string", default: "50000" },
    json: { type: "boolean" },
  },
});
const parts = values.parts!.split(",");
const work = values.work!;
Deno.mkdirSync(work, { recursive: true });
const say = (s: string) => !values.json && console.log(s);
const report: Record<string, unknown> = {};
const GiB = 2 ** 30;

function child(script: string, args: string[]) {
  const r = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", join(PROJECT_ROOT, script), ...args],
    stdout: "piped",
    stderr: "piped",
  }).outputSync();
  if (!r.success) throw new Error(`${script} failed: ${new TextDecoder().decode(r.stderr)}`);
  return JSON.parse(new TextDecoder().decode(r.stdout).trim().split("\n").pop()!);
}

const root = join(work, "hest");
if (parts.includes("speed") && !parts.includes("roundtrip")) {
  try {
    Deno.statSync(join(root, "st"));
  } catch {
    throw new Error(`speed reads the HEST root the roundtrip part writes (${root}): run it first`);
  }
}

if (parts.includes("roundtrip")) {
  const all = await loadDataset("her2st", { log: new WarningLog(false) });
  const native = { ...all, slices: all.slices.filter((s) => HER2_IMAGED.includes(s.name)) };
  const t0 = performance.now();
  await writeHest(native, root, { compression: "lzw" });
  const writeSeconds = (performance.now() - t0) / 1000;
  const back = await loadDataset(root, { log: new WarningLog(false) });
  const checks = native.slices.map((s) => {
    const b = back.slices.find((x) => x.name === s.name)!;
    const same = (a: ArrayLike<number>, c: ArrayLike<number>) =>
      a.length === c.length && Array.from(a).every((v, i) => v === c[i]);
    return {
      slice: s.name,
      spots: s.spots.length,
      sameSpots: s.spots.join() === b.spots.join(),
      sameGenes: s.genes.join() === b.genes.join(),
      sameCounts: same(s.counts.data, b.counts.data) && same(s.counts.indices, b.counts.indices) &&
        same(s.counts.indptr, b.counts.indptr),
      samePixel: same(s.pixel.x, b.pixel.x) && same(s.pixel.y, b.pixel.y),
      samePatient: s.patient === b.patient,
    };
  });
  const genes = selectGenes(all.slices, defaultGeneParams("her2st")).genes;
  const cache = join(work, "cache");
  const ridge = async (dataset: string, data: typeof all, encoder = "builtin") =>
    (await runExperiment(
      {
        dataset,
        method: "ridge",
        slices: HER2_IMAGED,
        genes: { recipe: "list", genes },
        encoder,
      },
      { data, cacheDir: cache, log: () => {} },
    )).folds;
  const embDir = join(work, "native-embeddings");
  const ex = builtinExtractor();
  for (const s of native.slices) {
    exportEmbeddingsCsv(embDir, await sliceFeatures(s, ex, cache), s.spots);
  }
  ex.close();
  const wsi = await loadDataset(`${root}?source=wsi`, { log: new WarningLog(false) });
  const runs = {
    native: await ridge("her2st", all),
    hestPatches: await ridge(root, back),
    hestWsi: await ridge(`${root}?source=wsi`, wsi),
    hestNativeEmbeddings: await ridge(root, back, `file:${embDir}`),
  };
  const pcc = Object.fromEntries(
    Object.entries(runs).map((
      [k, folds],
    ) => [k, Object.fromEntries(folds.map((f) => [f.test, f.pcc]))]),
  );
  const mean = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b) / 6;
  report.roundtrip = {
    writeSeconds,
    checks,
    genes: genes.length,
    pcc,
    mean: Object.fromEntries(Object.entries(pcc).map(([k, v]) => [k, mean(v)])),
    maxAbsDiffNativeEmbeddings: Math.max(
      ...HER2_IMAGED.map((s) => Math.abs(pcc.native[s] - pcc.hestNativeEmbeddings[s])),
    ),
  };
  say(`roundtrip: wrote 6 sections in ${writeSeconds.toFixed(1)} s`);
  for (const c of checks) say(`  ${JSON.stringify(c)}`);
  say("  ridge PCC per section: native | HEST patches | HEST WSI | HEST + native embeddings");
  for (const s of HER2_IMAGED) {
    say(
      `  ${s}: ${
        [pcc.native, pcc.hestPatches, pcc.hestWsi, pcc.hestNativeEmbeddings].map((p) =>
          p[s].toFixed(4)
        ).join(" | ")
      }`,
    );
  }
  say(`  means: ${JSON.stringify((report.roundtrip as { mean: unknown }).mean)}`);
}

if (parts.includes("speed")) {
  const fromPatches = child("bench/hest/encode_child.ts", [root]);
  const fromWsi = child("bench/hest/encode_child.ts", [`${root}?source=wsi`]);
  report.speed = {
    fromPatches,
    fromWsi,
    ratioWsiOverPatches: fromWsi.patchesPerSecond / fromPatches.patchesPerSecond,
  };
  say(
    `speed: built-in encoder, ${fromPatches.spots} spots — patches/*.h5 ${
      fromPatches.patchesPerSecond.toFixed(0)
    }/s (peak RSS ${(fromPatches.peakRssBytes / GiB).toFixed(2)} GiB), WSI ${
      fromWsi.patchesPerSecond.toFixed(0)
    }/s (peak RSS ${(fromWsi.peakRssBytes / GiB).toFixed(2)} GiB)`,
  );
}

if (parts.includes("large")) {
  const side = Number(values.side);
  const slide = join(work, `slide_${side}.tif`);
  let madeSeconds: number | null = null;
  try {
    Deno.statSync(slide);
  } catch {
    const t0 = performance.now();
    const r = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", join(PROJECT_ROOT, "bench/hest/make_slide.ts"), slide, String(side)],
    }).outputSync();
    if (!r.success) throw new Error("make_slide failed");
    madeSeconds = (performance.now() - t0) / 1000;
  }
  const bands = child("bench/hest/slide_child.ts", [slide, String(side), "200", "bands"]);
  const decoded = child("bench/hest/slide_child.ts", [slide, String(side), "200", "decoded"]);
  const encode = child("bench/hest/slide_child.ts", [slide, String(side), "200", "encode"]);
  report.large = {
    side,
    slideBytes: Deno.statSync(slide).size,
    madeSeconds,
    bands,
    decoded,
    encode,
    peakRssRatioBandsOverDecoded: bands.peakRssBytes / decoded.peakRssBytes,
  };
  say(
    `large: ${side} × ${side} px slide (${
      (Deno.statSync(slide).size / GiB).toFixed(2)
    } GiB TIFF), ${bands.spots} spots`,
  );
  for (const m of [bands, decoded, encode]) {
    say(
      `  ${m.mode.padEnd(8)} ${m.seconds.toFixed(1)} s, ${
        m.patchesPerSecond.toFixed(0)
      } patches/s, peak RSS ${(m.peakRssBytes / GiB).toFixed(2)} GiB (${m.source})`,
    );
  }
  say(`  peak RSS bands / decoded: ${(bands.peakRssBytes / decoded.peakRssBytes).toFixed(3)}`);
}
console.log(JSON.stringify({ benchmark: "hest", ...report }));
