/**
 * EGGN-style exemplar graph (Yang et al., WACV 2024: "Exemplar guided deep neural network for
 * spatial transcriptomics analysis of gene expression prediction"): each spot is linked to its
 * spatial neighbours and to its K most image-similar exemplars from the training slices, whose
 * image features and measured expression enter as node features; GraphSAGE message passing
 * carries them to the spot. Kept: exemplar retrieval from reference slices, a graph of spots and
 * exemplars, mean-aggregation message passing, regression. Changed: EGGN's exemplar-bridging
 * refinement of a fine-tuned image backbone is replaced by the frozen embedding.
 *
 * Built as SpaHGC's graph network with SpaHGC's own additions switched off — CNDA (SAGE mean on
 * the cross-slice edges instead), CNAP, the reference–reference edges, and masked contrastive
 * training — so the difference between `eggn` and `spahgc` is exactly those components.
 */
import type { Method } from "../method.ts";
import { spahgcMethod, type SpaHGCOptions } from "../spahgc_method.ts";

export function eggnMethod(o: SpaHGCOptions = {}): Method {
  const m = spahgcMethod({
    ...o,
    config: {
      ...o.config,
      masking: "none",
      ablation: { ...o.config?.ablation, noCNDA: true, noCNAP: true, noRS: true },
    },
  });
  return { ...m, name: "eggn" };
}
