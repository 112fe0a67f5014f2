"""Independent reference values for the HER2+ reader tests.

Reads the almaan/her2st layout with pandas (no code shared with the TypeScript reader) and
prints, per section: spots after joining counts to the spot file, gene columns, total UMI
counts, how many count rows / spot-file rows the join dropped, pathologist- and cluster-label
coverage. Run:  python3 tests/reference/her2st_counts.py ../shared/data/her2st > tests/fixtures/her2st_expected.json
"""
import gzip, json, os, sys
from collections import Counter
import pandas as pd

root = sys.argv[1]
sections = sorted(f[:-7] for f in os.listdir(f"{root}/ST-cnts") if f.endswith(".tsv.gz"))
out = []
for s in sections:
    cnt = pd.read_csv(f"{root}/ST-cnts/{s}.tsv.gz", sep="\t", index_col=0)
    with gzip.open(f"{root}/ST-cnts/{s}.tsv.gz", "rt") as fh:
        raw_header = fh.readline().rstrip("\n").split("\t")[1:]
    spots = pd.read_csv(f"{root}/ST-spotfiles/{s}_selection.tsv", sep="\t")
    spots.index = [f"{int(round(x))}x{int(round(y))}" for x, y in zip(spots.x, spots.y)]
    joined = cnt.loc[cnt.index.isin(spots.index)]
    lbl_path = f"{root}/ST-pat/lbl/{s}_labeled_coordinates.tsv"
    n_lbl = None
    if os.path.exists(lbl_path):
        lbl = pd.read_csv(lbl_path, sep="\t").dropna(subset=["x", "y"])
        ids = {f"{int(round(x))}x{int(round(y))}" for x, y in zip(lbl.x, lbl.y)}
        n_lbl = int(sum(i in ids for i in joined.index))
    cl = pd.read_csv(f"{root}/ST-cluster/lbl/{s}-cluster-annotation.tsv.gz", sep="\t")
    cids = {f"{int(x)}x{int(y)}" for x, y in zip(cl.x, cl.y)}
    out.append({
        "name": s,
        "countRows": int(cnt.shape[0]),
        "spotFileRows": int(spots.shape[0]),
        "spots": int(joined.shape[0]),
        "genes": int(cnt.shape[1]),
        "duplicateGeneNames": sum(n - 1 for n in Counter(raw_header).values() if n > 1),
        "totalCounts": int(joined.values.sum()),
        "nonzero": int((joined.values != 0).sum()),
        "firstSpot": str(joined.index[0]),
        "firstSpotTotal": int(joined.iloc[0].sum()),
        "labelledSpots": n_lbl,
        "clusterLabelledSpots": int(sum(i in cids for i in joined.index)),
    })
json.dump(out, sys.stdout, indent=1)
print()
