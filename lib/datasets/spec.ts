/**
 * What a dataset is to the tools: one spec per dataset, in its own module under `datasets/`,
 * registered by one line in `registry.ts`. Everything dataset-specific (where its files are,
 * how to read and obtain them, which genes and slices its studies use by default) lives in the
 * spec, so no code elsewhere asks for a dataset by name.
 */
import type { WarningLog } from "../errors.ts";
import type { Dataset } from "../data/slice.ts";
import type { GeneRecipe, GeneSelectionParams } from "../preprocess/hvg.ts";
import type { SyntheticOptions } from "../data/synthetic.ts";

export interface DatasetLoadOptions {
  /** Only these slices (the reader may skip reading the others). */
  slices?: string[];
  log: WarningLog;
  synthetic?: SyntheticOptions;
}

export interface DatasetSpec {
  name: string;
  description: string;
  /** Folder name under a data directory; undefined for generated datasets. */
  folder?: string;
  /** How a user obtains it (said in every "not found" message). */
  source: string;
  /** Files or folders inside `folder` whose presence means the dataset is there. */
  markers?: string[];
  /** Gene recipe when none is asked for. */
  genes: GeneRecipe;
  /** The rest of its gene selection, where it differs from the defaults (HVG flavour, count). */
  geneParams?: Partial<Omit<GeneSelectionParams, "recipe">>;
  /** Slices its studies cross-validate by default (else every slice with an image). */
  cvSlices?: string[];
  /** One sentence a study's table says about the data it was made from. */
  studyNote?: string;
  /** Reads it; `dir` is the resolved dataset folder (undefined for generated datasets). */
  load(dir: string | undefined, o: DatasetLoadOptions): Promise<Dataset> | Dataset;
  /** Obtains it into `target` and says what was done; absent when it cannot be fetched. */
  fetch?(target: string): Promise<string>;
}
