"""Reference values for the `released` network test: the authors' released SpaHGC (model.py,
CNDA.py, CNAP.py, heteroconv.py, utils.py, unmodified) evaluated with OUR starting values on OUR
graph, through ../shared/anchor's torch_geometric stand-in (CPU, Debian python3-torch).

Run (needs `SPAHGC_RELEASED`, a clone of wenwenmin/SpaHGC; see ../shared/anchor/README.md):
  deno run -A tests/support/released_forward.ts /tmp/case.json
  SPAHGC_RELEASED=… /usr/bin/python3 -W ignore tests/reference/released_forward.py /tmp/case.json \
      ../shared/anchor > tests/fixtures/released_forward_expected.json

Writes the clean-graph prediction (eval mode, forward(val=False)), the loss
MSE + 0.5·(1 − mean per-gene pearsonr) (the released training loss without its contrastive
terms) and, per checked weight, 64 evenly spaced entries of its gradient in our [in, out] layout.
"""
import json, os, sys
import numpy as np

case_path, anchor = sys.argv[1], sys.argv[2]
sys.path.insert(0, anchor)
import common  # noqa: E402  (the anchor's: extracts the released files, puts the shim first)

COMMIT = common.setup_paths()
import torch  # noqa: E402
from model import SpaHGC  # noqa: E402  (released)
from utils import pearsonr  # noqa: E402  (released)

o = json.load(open(case_path))
d, M, L = o["d"], o["M"], 4
m = SpaHGC(num_layers=L, mdim=d, out_channels=M)
P = {k: np.array(v["data"], dtype=np.float32).reshape(v["shape"]) for k, v in o["params"].items()}
T = lambda n: torch.from_numpy(P[n].T.copy())
B = lambda n: torch.from_numpy(P[n].copy())
sd = {}
e = "encoder."
sd[e + "pretransform_win.weight"] = T("tIn1.W")
sd[e + "pretransform_exp.weight"] = T("rIn1.W")
sd[e + "post_transform.2.weight"] = T("tIn2.W")
sd[e + "post_transform.3.weight"] = B("tInNorm.g")
sd[e + "post_transform.3.bias"] = B("tInNorm.b")
sd[e + "pretransform_ey.weight"] = T("refY.W")
rel = {"ts": "<target___near___target>", "rs": "<reference___close___reference>"}
cnda = {"tq": "q_proj", "tk": "k_proj", "tv": "v_proj", "to": "out_dist",
        "rq": "q_proj_rev", "rk": "k_proj_rev", "rv": "v_proj_rev", "ro": "out_src"}
for l in range(L):
    c = f"{e}convs.{l}.convs."
    for ours, theirs in rel.items():
        sd[c + theirs + ".lin_l.weight"] = T(f"L{l}.{ours}.lin_l.W")
        sd[c + theirs + ".lin_l.bias"] = B(f"L{l}.{ours}.lin_l.b")
        sd[c + theirs + ".lin_r.weight"] = T(f"L{l}.{ours}.lin_r.W")
    x = c + "<reference___refer___target>."
    for ours, theirs in cnda.items():
        sd[x + theirs + ".weight"] = T(f"L{l}.cnda.{ours}.W")
        sd[x + theirs + ".bias"] = B(f"L{l}.cnda.{ours}.b")
    sd[x + "expr_norm.weight"] = B(f"L{l}.cnda.yNorm.g")
    sd[x + "expr_norm.bias"] = B(f"L{l}.cnda.yNorm.b")
    sd[x + "bias_src"] = torch.zeros(256)
    sd[x + "bias_dist"] = torch.zeros(256)
for ours, theirs in {"lin": "head", "q": "q_proj", "k": "k_proj", "v": "v_proj"}.items():
    sd[f"pool.{theirs}.weight"] = T(f"cnap.{ours}.W")
    sd[f"pool.{theirs}.bias"] = B(f"cnap.{ours}.b")
sd["lin.weight"] = T("head.W")
sd["lin.bias"] = B("head.b")
full = m.state_dict()
for k in full:
    if k.startswith("target_encoder."):
        sd[k] = sd[k.replace("target_encoder.", "encoder.", 1)]
missing = set(full) - set(sd)
assert not missing, missing
m.load_state_dict(sd)
xT = torch.tensor(o["xT"], dtype=torch.float32).view(o["nT"], d)
hR = torch.tensor(o["hR"], dtype=torch.float32).view(o["nR"], d + M)
y = torch.tensor(o["y"], dtype=torch.float32).view(o["nT"], M)
E = lambda k: torch.tensor(o[k], dtype=torch.long)
ed = {("target", "near", "target"): E("ts"), ("reference", "refer", "target"): E("cs"),
      ("reference", "close", "reference"): E("rs")}
m.eval()
pred = m({"target": xT, "reference": hR}, ed, val=False)
ours = torch.tensor(o["pred"]).view(o["nT"], M)
print("prediction: max |ours - released| =", float((pred - ours).abs().max()), file=sys.stderr)
corr = 0
for i in range(M):
    corr += pearsonr(pred[:, i], y[:, i])
corr /= M
loss = torch.nn.functional.mse_loss(pred, y) + 0.5 * (1 - corr).mean()
loss.backward()
print("loss: ours", o["loss"], "released", float(loss), file=sys.stderr)
out = dict(released_commit=COMMIT, blobs=common.released_blob_hashes(),
           pred=[float(v) for v in pred.detach().numpy().reshape(-1)], loss=float(loss),
           gradients={})
grad_of = {"tIn1.W": e + "pretransform_win.weight", "rIn1.W": e + "pretransform_exp.weight",
           "tIn2.W": e + "post_transform.2.weight", "refY.W": e + "pretransform_ey.weight",
           "L0.cnda.tk.W": e + "convs.0.convs.<reference___refer___target>.k_proj.weight",
           "L3.cnda.yNorm.g": e + "convs.3.convs.<reference___refer___target>.expr_norm.weight",
           "L1.ts.lin_l.W": e + "convs.1.convs.<target___near___target>.lin_l.weight",
           "L2.rs.lin_r.W": e + "convs.2.convs.<reference___close___reference>.lin_r.weight",
           "cnap.q.W": "pool.q_proj.weight", "head.W": "lin.weight"}
params = dict(m.named_parameters())
for ours_name, theirs in grad_of.items():
    g = params[theirs].grad
    g = g.T if g.dim() == 2 else g
    a = np.array(o["grads"][ours_name], dtype=np.float32).reshape(tuple(g.shape))
    rel = float(np.abs(a - g.numpy()).max() / (np.abs(g.numpy()).max() + 1e-12))
    print(f"grad {ours_name:16s} max rel diff to ours {rel:.2e}", file=sys.stderr)
    flat = g.numpy().reshape(-1)
    stride = max(1, len(flat) // 64)
    out["gradients"][ours_name] = dict(stride=stride, scale=float(np.abs(flat).max()),
                                       values=[float(flat[k * stride]) for k in range(64)
                                               if k * stride < len(flat)])
json.dump(out, sys.stdout, indent=0)
