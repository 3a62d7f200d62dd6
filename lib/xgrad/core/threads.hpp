#pragma once
// How many threads xgrad computes on. The matrix products (which xgrad splits itself, running
// OpenBLAS on one thread per part) and the parallel loops share one pool of this many threads,
// the calling thread included, so that no two thread pools ever compete for the cores.
namespace xg {

/// Threads the products and loops use, at least 1. It starts at OpenBLAS's own default
/// (OPENBLAS_NUM_THREADS when set, else the cores OpenBLAS sees).
int num_threads();

/// Sets the thread count: 1 runs everything on the calling thread. ValueError unless n >= 1.
void set_num_threads(int n);

}  // namespace xg
