"""A stand-in for `torch_scatter.scatter_add`, the one function of torch_scatter the authors'
released SpaHGC uses (CNDA.py, CNAP.py). torch_scatter builds against one exact torch version and
its wheels come from PyG's own index, which the GPU machine cannot reach; `authors_epoch.py` puts
this folder on the path only when the real package does not import, and says so in its report.

Semantics as torch_scatter's: sums `src` into `out` (or a new zero tensor) at positions `index`
along `dim`; a 1-D index along `dim` is broadcast over the other dimensions.
"""
import torch

__all__ = ["scatter_add"]


def scatter_add(src, index, dim=-1, out=None, dim_size=None):
    dim = dim % src.dim()
    if out is None:
        size = list(src.shape)
        size[dim] = dim_size if dim_size is not None else (
            int(index.max()) + 1 if index.numel() else 0)
        out = src.new_zeros(size)
    if index.dim() == 1:
        return out.index_add_(dim, index, src)
    shape = [1] * src.dim()
    shape[: index.dim()] = index.shape
    return out.scatter_add_(dim, index.view(shape).expand_as(src), src)
