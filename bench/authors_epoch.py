"""Child process of `deno task bench --only train`: one training epoch of the AUTHORS' SpaHGC
(their released files, unmodified, run by the reference harness `../shared/anchor`) on the same
graphs and inputs as `bench/train_epoch.ts`: test section B4, the five training sections C2–C6
each one graph, one AdamW step per graph (their loss with its per-gene pearsonr loop), built-in
276-d features exported by this project, its 785 genes.

Usage (the bench sets all of this): ANCHOR_DIR=../shared/anchor SPAHGC_RELEASED=<clone>
H2H_FEATS=<export dir> H2H_GENES=<hvg json> python3 bench/authors_epoch.py THREADS EPOCHS

Prints one JSON line: seconds per epoch (median, fastest), torch's version and threads, and the
graphs' sizes, so the bench can check that both sides ran the same graphs.
"""
import json
import os
import sys
import time

sys.path.insert(0, os.environ["ANCHOR_DIR"])
import common  # noqa: E402  (the harness: shim on sys.path, released files extracted)

common.setup_paths()
import numpy as np  # noqa: E402
import torch  # noqa: E402

import build_data as bd  # noqa: E402
import h2h_inputs  # noqa: E402
import spahgc_run as R  # noqa: E402

threads, epochs = int(sys.argv[1]), int(sys.argv[2])
torch.set_num_threads(threads)
data, genes = h2h_inputs.load_all(os.environ["H2H_FEATS"])
TEST = "B4"
emb = bd.fold_features(data, TEST)
# refnorm "own": each retrieved reference scaled by its own section (the leak-free choice; the
# cost of an epoch does not depend on it).
graphs = {s: bd.build_graph(data, emb, s, TEST, refnorm="own") for s in bd.SECTIONS if s != TEST}
train = [bd.to_heterodata(graphs[s]) for s in sorted(graphs)]
dim = next(iter(graphs.values()))["target_x"].shape[1]
model = R.make_model(dim, len(genes), 0)
opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=1e-4)
crit = torch.nn.MSELoss()
model.train()
times = []
for ep in range(epochs + 1):  # the first epoch warms up (allocation, thread pools)
    t0 = time.perf_counter()
    for d in train:
        R.train_step(model, opt, d, crit)
    if ep > 0:
        times.append(time.perf_counter() - t0)
print(json.dumps({
    "measurement": "authors-train-epoch",
    "torch": torch.__version__,
    "threads": threads,
    "graphs": [{"targets": len(graphs[s]["target_x"]), "references": len(graphs[s]["reference_x"])}
               for s in sorted(graphs)],
    "genes": len(genes),
    "featureDim": int(dim),
    "secondsPerEpoch": float(np.median(times)),
    "fastestEpochSeconds": float(min(times)),
    "epochsTimed": epochs,
}))
