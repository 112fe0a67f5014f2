"""The authors' side of the GPU pack's epoch comparison: their released SpaHGC model (model.py,
CNDA.py, CNAP.py, heteroconv.py, utils.py, copied unmodified into the pack's `released/` by
`bench/gpu/pack.ts` from a clone of wenwenmin/SpaHGC) trained for timed epochs over the very
graphs our trainer times (`run.js --mode epoch --graphs-out DIR`; format in epoch_graphs.ts).

One optimiser step per graph, as their train.py's training step does it: the model's forward
with both views, loss MSE + 0.5 (1 - mean over genes of their `pearsonr`, looped gene by gene as
their `correlationMetric` does) + 0.2 target contrastive + 0.1 reference contrastive, AdamW
(lr 1e-4, weight decay 1e-4), `model.train()`. The first epoch warms up (allocation, CUDA
kernels) and is not timed; CUDA is synchronised before each clock read.

Usage: python3 authors_epoch.py GRAPHS_DIR [--epochs 10] [--device auto|cuda|cpu]
       [--released DIR] [--threads N]
       python3 authors_epoch.py GRAPHS_DIR --check-graphs   (numpy only: what was read, summed)
Prints one JSON line: seconds per epoch (median, fastest), the device's name, torch's and
torch_geometric's versions, whether torch_scatter was the real package or the stand-in.
"""
import argparse
import glob
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ap = argparse.ArgumentParser()
ap.add_argument("graphs")
ap.add_argument("--epochs", type=int, default=10)
ap.add_argument("--device", default="auto")
ap.add_argument("--released", default=os.path.join(HERE, "released"))
ap.add_argument("--threads", type=int, default=0)
ap.add_argument("--check-graphs", action="store_true")
args = ap.parse_args()

import numpy as np  # noqa: E402

RELATIONS = ("ts", "cs", "rs")


def read_graph(stem):
    """One graph's arrays (numpy), in the order and types epoch_graphs.ts writes them."""
    meta = json.load(open(stem + ".json"))
    raw = open(stem + ".bin", "rb").read()
    n, r, d, g = meta["targets"], meta["references"], meta["dim"], meta["genes"]
    at = 0

    def take(dtype, count, shape):
        nonlocal at
        a = np.frombuffer(raw, dtype=dtype, count=count, offset=at).reshape(shape)
        at += a.nbytes
        return a.copy()

    arrays = {"target_x": take("<f4", n * d, (n, d)), "target_y": take("<f4", n * g, (n, g)),
              "reference_x": take("<f4", r * (d + g), (r, d + g))}
    for rel in RELATIONS:
        e = meta["edges"][rel]
        arrays[rel] = take("<i8", 2 * e, (2, e))
    if at != len(raw):
        sys.exit(f"authors_epoch: {stem}.bin holds {len(raw)} bytes, its header describes {at}")
    return meta, arrays


stems = sorted(glob.glob(os.path.join(args.graphs, "graph*.json")),
               key=lambda p: int(os.path.basename(p)[5:-5]))
if not stems:
    sys.exit(f"authors_epoch: no graph*.json in {args.graphs}")
read = [read_graph(p[:-5]) for p in stems]
if args.check_graphs:
    print(json.dumps({"graphs": [dict(
        target=m["target"],
        shapes={k: list(a.shape) for k, a in g.items()},
        sums={k: float(a.astype(np.float64).sum()) for k, a in g.items()
              if k not in RELATIONS},
        edges={k: {"sourceSum": int(g[k][0].sum()), "destinationSum": int(g[k][1].sum())}
               for k in RELATIONS},
    ) for m, g in read]}))
    sys.exit(0)

if not os.path.isfile(os.path.join(args.released, "model.py")):
    sys.exit(f"authors_epoch: no released model.py in {args.released} (build the pack with "
             "--released DIR, a clone of wenwenmin/SpaHGC)")
sys.path.insert(0, args.released)
try:
    import torch_scatter  # noqa: F401
    scatter_source = "torch_scatter " + getattr(torch_scatter, "__version__", "?")
except ImportError:
    sys.path.insert(0, os.path.join(HERE, "standin"))
    scatter_source = "stand-in (bench/gpu/standin/torch_scatter)"

import torch  # noqa: E402
import torch_geometric  # noqa: E402
from model import SpaHGC  # noqa: E402  (released, unmodified)
from utils import pearsonr  # noqa: E402  (released, unmodified)

if args.threads:
    torch.set_num_threads(args.threads)
device = torch.device("cuda" if args.device == "auto" and torch.cuda.is_available()
                      else ("cpu" if args.device == "auto" else args.device))
EDGES = {"ts": ("target", "near", "target"), "cs": ("reference", "refer", "target"),
         "rs": ("reference", "close", "reference")}


def hetero_data(a):
    data = torch_geometric.data.HeteroData()
    data["target"].x = torch.from_numpy(a["target_x"])
    data["target"].y = torch.from_numpy(a["target_y"])
    data["reference"].x = torch.from_numpy(a["reference_x"])
    for rel in RELATIONS:
        data[EDGES[rel]].edge_index = torch.from_numpy(a[rel])
    return data.to(device) if device.type != "cpu" else data


graphs = [(m, hetero_data(a)) for m, a in read]
dim, genes = graphs[0][0]["dim"], graphs[0][0]["genes"]
torch.manual_seed(0)
model = SpaHGC(num_layers=4, mdim=dim, out_channels=genes).to(device)
opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=1e-4)
mse = torch.nn.MSELoss()


def correlation_loss(pred, y):
    corr = sum(pearsonr(pred[:, j], y[:, j]) for j in range(pred.size(1))) / pred.size(1)
    return (1 - corr).mean()


def step(data):
    opt.zero_grad()
    t_con, r_con, pred = model(data.x_dict, data.edge_index_dict, True)
    y = data["target"].y
    loss = mse(pred, y) + 0.5 * correlation_loss(pred, y) + 0.2 * t_con + 0.1 * r_con
    loss.backward()
    opt.step()
    return float(loss.detach())


def sync():
    if device.type == "cuda":
        torch.cuda.synchronize()


model.train()
times, losses = [], []
for ep in range(args.epochs + 1):
    sync()
    t0 = time.perf_counter()
    losses = [step(d) for _, d in graphs]
    sync()
    if ep > 0:
        times.append(time.perf_counter() - t0)
print(json.dumps({
    "measurement": "authors-train-epoch",
    "device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
    "torch": torch.__version__,
    "torch_geometric": getattr(torch_geometric, "__version__", "unknown (a stand-in?)"),
    "torch_scatter": scatter_source,
    "threads": torch.get_num_threads(),
    "graphs": [{"target": m["target"], "targets": m["targets"], "references": m["references"]}
               for m, _ in graphs],
    "genes": genes,
    "featureDim": dim,
    "epochsTimed": args.epochs,
    "secondsPerEpoch": float(np.median(times)) if times else None,
    "fastestEpochSeconds": float(min(times)) if times else None,
    "lastLosses": losses,
}))
