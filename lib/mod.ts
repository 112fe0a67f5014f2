/**
 * SpaHGC-TS — the public entry of the library.
 *
 * The folders follow the data's path: `io/` reads and writes files, `data/` holds the core
 * types and the dataset registry, `preprocess/` selects genes and normalises, `features/` embeds
 * image patches, `graph/` builds the heterogeneous graph, `model/` holds SpaHGC and the
 * baselines, `train/` runs cross-validation, `eval/` scores, tests, clusters and enriches,
 * `plot/` turns results into figures, `notebook/` runs notebooks, `provenance/` writes manifests.
 *
 * @example
 * ```ts
 * import { loadDataset, summarizeDataset } from "./lib/mod.ts";
 * const ds = await loadDataset("synthetic");
 * console.log(summarizeDataset(ds).slices[0].spots);
 * ```
 */
export { DataError, type DataLocation, type DataWarning, WarningLog } from "./errors.ts";
export { CsrBuilder, CsrMatrix } from "./data/sparse.ts";
export {
  type Coords,
  type Dataset,
  makeUnique,
  nSpots,
  type Provenance,
  type RgbImage,
  type Slice,
  type SliceImage,
  validateSlice,
} from "./data/slice.ts";
export {
  DOMAINS,
  generateSynthetic,
  PROGRAM_GENES,
  SYNTHETIC_DEFAULTS,
  type SyntheticOptions,
} from "./data/synthetic.ts";
export { HER2_IMAGED, HER2ST } from "./datasets/her2st.ts";
export type { DatasetSpec } from "./datasets/spec.ts";
export {
  dataDirCandidates,
  DATASETS,
  datasetSpec,
  defaultGeneRecipe,
  fetchDataset,
  loadDataset,
  type LoadOptions,
  PROJECT_ROOT,
  resolveDatasetDir,
} from "./datasets/registry.ts";
export {
  type SliceSummary,
  summarizeDataset,
  summaryMarkdown,
  summaryTable,
} from "./datasets/summary.ts";
export { findHer2stImage, listHer2stSections, readHer2st, readHer2stSection } from "./io/her2st.ts";
export { readVisium, readVisiumDataset } from "./io/visium.ts";
export {
  type HestFilter,
  type HestSelection,
  isHestRoot,
  parseHestQuery,
  readHest,
  readHestMetadata,
} from "./io/hest.ts";
export { isHestBenchTask, readHestBench } from "./io/hest_bench.ts";
export { writeHest, writeHestBenchTask } from "./datasets/hest_export.ts";
export { readPatchFileInfo } from "./io/patch_file.ts";
export { readSplit, summariseReadings } from "./eval/hest_readings.ts";
export { hestProbe, hestTargets } from "./model/baselines/hest_probe.ts";
export { runHestBenchmark } from "./train/hest_benchmark.ts";
export { type AnnDataReadOptions, annDataSlices, annDataToSlice } from "./io/anndata_slices.ts";
export {
  type AnnData,
  type Column,
  type Dense2D,
  readH5ad,
  sliceToAnnData,
  writeH5ad,
} from "./io/h5ad.ts";
export { parseCountTable } from "./io/count_table.ts";
export { decodeImage, encodePng, imageSize } from "./io/image.ts";
export { writeFileAtomic } from "./io/files.ts";
export { Rng } from "./util/random.ts";
export { type Manifest, startManifest } from "./provenance/manifest.ts";
export {
  checkExecuted,
  checkNotebooks,
  type NotebookCheck,
  type NotebookResult,
  runNotebook,
} from "./notebook/runner.ts";
export { display, displayTable, notebookParams } from "./notebook/params.ts";
export { openPaperNotebook, type PaperNotebook } from "./notebook/paper_notebook.ts";
export {
  expressionTarget,
  log1p,
  MinMaxScaler,
  normalizeTotal,
  type TargetTransform,
} from "./preprocess/normalize.ts";
export {
  commonGenes,
  type GeneRecipe,
  type GeneSelection,
  type GeneSelectionParams,
  hvgSeurat,
  hvgSeuratV3,
  selectGenes,
} from "./preprocess/hvg.ts";
export { loessFit } from "./preprocess/loess.ts";
export {
  extractPatches,
  forEachPatchChunk,
  type PatchChunk,
  type PatchOptions,
  type PatchSet,
} from "./features/patches.ts";
export { BUILTIN_DIM, BuiltinEncoderPool, encodeBuiltin } from "./features/builtin.ts";
export {
  builtinExtractor,
  defaultCacheDir,
  type Embeddings,
  type FeatureExtractor,
  onnxExtractor,
  parseEncoder,
  precomputedExtractor,
  sliceFeatures,
} from "./features/extractors.ts";
export { meanStd, pearsonColumn, type SliceMetrics, sliceMetrics } from "./eval/metrics.ts";
export { makeFolds, type Split } from "./train/cv.ts";
export { crossValidate, type CvReport } from "./train/experiment.ts";
export type { Method, Predictor, PreparedSlice } from "./model/method.ts";
export {
  normalizeRunConfig,
  type RunConfig,
  runExperiment,
  runIdentity,
} from "./train/run_config.ts";
export { EpochSelector, holdOut, type Selection, SELECTIONS } from "./model/selection.ts";
export { ridgeMethod } from "./model/baselines/ridge.ts";
export { METHOD_NAMES, METHOD_SPECS, methodByName, type MethodSpec } from "./model/methods.ts";
export { spahgcMethod, type SpaHGCOptions } from "./model/spahgc_method.ts";
export {
  buildBank,
  buildGraph,
  type GraphParams,
  graphStats,
  type HeteroGraph,
  PAPER_GRAPH,
  RELEASED_GRAPH,
} from "./graph/hetero.ts";
export { type BackendName, useBackend } from "./model/backend.ts";
export {
  adjustedRandIndex,
  type Alternative,
  benjaminiHochberg,
  mannWhitneyU,
  type TestResult,
  wilcoxonSignedRank,
} from "./eval/stats.ts";
export {
  clusterExpression,
  type ClusterOptions,
  kmeansLabels,
  type LocalisationResult,
  louvainLabels,
  pcaScores,
  tumourLocalisation,
} from "./eval/clustering.ts";
export {
  aggregateSeeds,
  alignToPrediction,
  benchmarkTable,
  compareRuns,
  evaluateRun,
  geneTable,
  loadRun,
  type Run,
  type RunComparison,
  type RunEvaluation,
  type RunSlice,
  sliceTable,
} from "./eval/runs.ts";
export {
  type DeRow,
  differentialExpression,
  type EnrichmentRow,
  geneList,
  type GeneSet,
  geneSetCoverage,
  hypergeometricSf,
  overRepresentation,
  readGeneSets,
  readGmt,
  readGoCsv,
  type TumourEnrichment,
  tumourEnrichment,
  writeGmt,
} from "./eval/enrichment.ts";
export {
  ablationCurveFigure,
  type Background,
  clusterMapFigure,
  type ClusterPanel,
  enrichmentBarFigure,
  enrichmentDotFigure,
  type Figure,
  mostVariableGene,
  pccBarFigure,
  pccBoxFigure,
  type PredictedSlice,
  predictionMapFigure,
  runtimeFigure,
  spatialExpressionFigure,
} from "./plot/figures.ts";
export {
  closeRenderer,
  displayFigure,
  exportFigure,
  figureHtml,
  figureMimeBundle,
  renderFigure,
  saveFigure,
} from "./plot/export.ts";
export {
  figuresRoot,
  measuredTable,
  runFolder,
  runStudy,
  type StudyConfig,
  studyData,
  type StudyResult,
  studyTable,
} from "./notebook/study.ts";
export * as paper from "./notebook/paper.ts";
export { expandSpec, type SweepSpec } from "./sweep/spec.ts";
export { runLocal, runSlurm } from "./sweep/runners.ts";
export { collect, readResults, type ResultRow, resultsFrame, sweepStatus } from "./sweep/store.ts";
export { exportTable, markdownTable } from "./provenance/table.ts";
export {
  asFrame,
  csvOf,
  dtypeName,
  type Frame,
  frameOf,
  groupInOrder,
  markdownOf,
  pl,
  rowsOf,
} from "./table/frame.ts";
export { readGeneList } from "./preprocess/gene_list.ts";
export { thumbnailDataUri } from "./io/image.ts";
