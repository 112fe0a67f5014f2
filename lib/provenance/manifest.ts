/**
 * Manifests: every figure, table and output folder carries a `manifest.json` saying how it was
 * made — inputs, parameters, seeds, software versions, git commit, backend/device, wall time —
 * so a number can be traced back to the run that produced it.
 */
import { join } from "node:path";
import { writeFileAtomic } from "../io/files.ts";
import { PROJECT_ROOT } from "../paths.ts";
import type { Dataset } from "../data/slice.ts";

export interface Manifest {
  /** What this output is, e.g. "00_quickstart". */
  name: string;
  createdAt: string;
  wallSeconds: number;
  git: { commit: string | null; dirty: boolean | null };
  software: Record<string, string>;
  platform: { os: string; arch: string; cpus: number };
  dataset?: { name: string; slices: string[]; source: string; location: string; warnings: number };
  params: Record<string, unknown>;
  /** Output files, relative to the manifest's folder. */
  outputs: string[];
  notes: string[];
}

function git(args: string[]): string | null {
  try {
    const out = new Deno.Command("git", {
      args,
      cwd: PROJECT_ROOT,
      stdout: "piped",
      stderr: "null",
    }).outputSync();
    return out.success ? new TextDecoder().decode(out.stdout).trim() : null;
  } catch {
    return null;
  }
}

function packageVersion(name: string): string {
  try {
    return JSON.parse(
      Deno.readTextFileSync(join(PROJECT_ROOT, "node_modules", name, "package.json")),
    ).version;
  } catch {
    return "not installed";
  }
}

/**
 * What wrote an output: the git commit and whether the tree was dirty (tracked files only), and
 * the runtime's and native packages' versions.
 */
export function softwareProvenance(): Pick<Manifest, "git" | "software"> {
  return {
    git: {
      commit: git(["rev-parse", "HEAD"]),
      dirty: (() => {
        const s = git(["status", "--porcelain", "--untracked-files=no"]);
        return s === null ? null : s.length > 0;
      })(),
    },
    software: {
      spahgc: JSON.parse(Deno.readTextFileSync(join(PROJECT_ROOT, "package.json"))).version,
      deno: Deno.version.deno,
      v8: Deno.version.v8,
      typescript: Deno.version.typescript,
      h5wasm: packageVersion("h5wasm"),
      sharp: packageVersion("sharp"),
    },
  };
}

/** Starts a manifest; call `finish` when the outputs are written. */
export function startManifest(
  name: string,
  params: Record<string, unknown> = {},
  dataset?: Dataset,
) {
  const t0 = performance.now();
  const m: Manifest = {
    name,
    createdAt: new Date().toISOString(),
    wallSeconds: 0,
    ...softwareProvenance(),
    platform: { os: Deno.build.os, arch: Deno.build.arch, cpus: navigator.hardwareConcurrency },
    dataset: dataset && {
      name: dataset.name,
      slices: dataset.slices.map((s) => s.name),
      source: dataset.provenance.source,
      location: dataset.provenance.location,
      warnings: dataset.provenance.warnings.length,
    },
    params,
    outputs: [],
    notes: [],
  };
  return {
    manifest: m,
    /** Records the wall time and writes `dir/<file>` (default `manifest.json`) atomically. */
    finish(
      dir: string,
      outputs: string[],
      notes: string[] = [],
      file = "manifest.json",
    ): Manifest {
      m.wallSeconds = Math.round(performance.now() - t0) / 1000;
      m.outputs = outputs;
      m.notes.push(...notes);
      Deno.mkdirSync(dir, { recursive: true });
      writeFileAtomic(join(dir, file), JSON.stringify(m, null, 2) + "\n");
      return m;
    },
  };
}
