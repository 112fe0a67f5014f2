"""Reference point for the benchmark: the same load (parse, join to spot files, sparse CSR) with pandas + scipy."""
import json, os, resource, sys, time
import pandas as pd, scipy.sparse as sp
root = sys.argv[1]
t0 = time.perf_counter()
n = nnz = 0
for f in sorted(os.listdir(f"{root}/ST-cnts")):
    s = f[:-7]
    cnt = pd.read_csv(f"{root}/ST-cnts/{f}", sep="\t", index_col=0)
    spots = pd.read_csv(f"{root}/ST-spotfiles/{s}_selection.tsv", sep="\t")
    spots.index = [f"{int(round(x))}x{int(round(y))}" for x, y in zip(spots.x, spots.y)]
    m = sp.csr_matrix(cnt.loc[cnt.index.isin(spots.index)].values.astype("float32"))
    n += m.shape[0]; nnz += m.nnz
print(json.dumps({"seconds": time.perf_counter() - t0, "peakRssBytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, "spots": n, "nnz": nnz}))
