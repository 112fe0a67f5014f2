"""Independent reference for the HVG tests: scanpy's `highly_variable_genes` (flavours seurat and
seurat_v3, single batch and batch_key) re-written in plain numpy/pandas, following scanpy 1.9's
source line by line (pd.cut bins, pandas groupby mean/std, the n_top cut-off), plus a direct LOESS
solved with numpy least squares. scanpy itself is not installable here.

Run: python3 tests/reference/hvg_reference.py ../shared/data/her2st > tests/fixtures/her2st_hvg_expected.json
"""
import json, sys
import numpy as np, pandas as pd

root = sys.argv[1]


def load(s):
    cnt = pd.read_csv(f"{root}/ST-cnts/{s}.tsv.gz", sep="\t", index_col=0)
    spots = pd.read_csv(f"{root}/ST-spotfiles/{s}_selection.tsv", sep="\t")
    ids = {f"{int(round(x))}x{int(round(y))}" for x, y in zip(spots.x, spots.y)}
    return cnt.loc[cnt.index.isin(ids)].astype(np.float64)


def normalize(df, target):
    tot = df.values.sum(1)
    if target == "median":
        target = np.median(tot[tot > 0])
    return df.values / tot[:, None] * target


def seurat(X, genes, n_top, n_bins=20):
    mean = X.mean(0)
    var = X.var(0, ddof=1)
    mean[mean == 0] = 1e-12
    disp = var / mean
    disp[disp == 0] = np.nan
    disp = np.log(disp)
    mean = np.log1p(mean)
    df = pd.DataFrame({"means": mean, "dispersions": disp}, index=genes)
    df["mean_bin"] = pd.cut(df["means"], bins=n_bins)
    g = df.groupby("mean_bin")["dispersions"]
    m, sd = g.mean(), g.std(ddof=1)
    one = sd.isnull()
    sd[one.values] = m[one.values].values
    m[one.values] = 0
    df["dispersions_norm"] = (df["dispersions"].values - m[df["mean_bin"].values].values) / sd[df["mean_bin"].values].values
    dn = df["dispersions_norm"].values
    dn = dn[~np.isnan(dn)]
    dn[::-1].sort()
    n = min(n_top, len(genes), dn.size)
    cut = dn[n - 1]
    df["highly_variable"] = np.nan_to_num(df["dispersions_norm"].values) >= cut
    return df


def loess_direct(x, y, span=0.3):
    n = len(x)
    q = int(np.floor(n * span))
    out = np.empty(n)
    for i in range(n):
        d = np.abs(x - x[i])
        idx = np.argsort(d, kind="stable")[:q]
        dq = d[idx].max()
        w = (1 - (d[idx] / dq) ** 3) ** 3
        A = np.stack([np.ones(q), x[idx] - x[i], (x[idx] - x[i]) ** 2], 1)
        sw = np.sqrt(w)
        beta = np.linalg.lstsq(A * sw[:, None], y[idx] * sw, rcond=None)[0]
        out[i] = beta[0]
    return out


def seurat_v3(X, n_top, span=0.3):
    N = X.shape[0]
    mean, var = X.mean(0), X.var(0, ddof=1)
    nc = var > 0
    est = np.zeros(X.shape[1])
    est[nc] = loess_direct(np.log10(mean[nc]), np.log10(var[nc]), span)
    reg_std = np.sqrt(10 ** est)
    clip = reg_std * np.sqrt(N) + mean
    Xc = np.minimum(X, clip[None, :])
    v = (1 / ((N - 1) * reg_std ** 2)) * (N * mean ** 2 + (Xc ** 2).sum(0) - 2 * Xc.sum(0) * mean)
    return v


out = {}
a1 = load("A1")
d = seurat(normalize(a1, "median"), a1.columns, 1500)
out["A1_seurat_median_1500"] = {"hvg": list(d.index[d.highly_variable]),
                                "sample": {g: [float(d.means[g]), float(d.dispersions_norm[g])] for g in ["ERBB2", "FASN", "KRT19", "COL1A1", "MT-CO1"] if g in d.index}}
b1 = load("B1")
d = seurat(normalize(b1, 1e6), b1.columns, 1000)
out["B1_seurat_1e6_1000"] = {"hvg": list(d.index[d.highly_variable])}

# histogene recipe: A1 top-1500 (above), present in all 36, detected in >= 1000 spots over sorted names [1:33].
names = sorted(f[:-7] for f in __import__("os").listdir(f"{root}/ST-cnts"))
tables = {s: load(s) for s in names}
top = list(out["A1_seurat_median_1500"]["hvg"])
present = [g for g in top if all(g in tables[s].columns for s in names)]
det = {g: sum(int((tables[s][g] > 0).sum()) for s in names[1:33]) for g in present}
out["histogene"] = [g for g in present if det[g] >= 1000]

# seurat_v3 on C1 (raw counts), top 1000; the direct LOESS is slow in Python, so genes with
# counts in >= 10 spots only (the test applies the same gene filter).
c1 = tables["C1"]
keep = (c1 > 0).sum(0) >= 10
c1k = c1.loc[:, keep]
v = seurat_v3(c1k.values, 1000)
order = np.argsort(-v, kind="stable")[:1000]
out["C1_seurat_v3_1000_min10"] = {"genes": list(c1k.columns), "hvg": [c1k.columns[i] for i in order],
                                  "sample": {c1k.columns[i]: float(v[i]) for i in order[:20]}}

# batch-ranked (scanpy batch_key, seurat) over the six imaged sections, top 500.
six = ["B4", "C2", "C3", "C4", "C5", "C6"]
common = [g for g in tables["B4"].columns if all(g in tables[s].columns for s in six)]
frames = []
for s in six:
    t = tables[s]
    X = normalize(t, 1e6)
    Xc = pd.DataFrame(X, columns=t.columns)[common]
    filt = (Xc.values > 0).sum(0) >= 1
    dd = seurat(Xc.values[:, filt], Xc.columns[filt], 500)
    miss = pd.DataFrame({"means": 0.0, "dispersions": 0.0, "dispersions_norm": 0.0, "highly_variable": False}, index=Xc.columns[~filt])
    dd = pd.concat([dd[["means", "dispersions", "dispersions_norm", "highly_variable"]], miss])
    dd["gene"] = dd.index
    frames.append(dd)
df = pd.concat(frames)
df["highly_variable"] = df["highly_variable"].astype(int)
df = df.groupby("gene").agg(dict(dispersions_norm=np.nanmean, highly_variable=np.nansum))
df = df.rename(columns=dict(highly_variable="nb"))
df = df.sort_values(["nb", "dispersions_norm"], ascending=False, na_position="last")
out["batch_ranked_six_500"] = list(df.index[:500])
json.dump(out, sys.stdout)
print()
