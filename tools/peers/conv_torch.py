#!/usr/bin/env python3
"""PyTorch peer of tools/bench/conv.cpp: forward and backward of the book's convnet's three
convolutions at batch 64 (PyTorch's own NCHW layout and its default convolution backend), the
first without an input gradient. The last stdout line is JSON: per layer and in total, the
median wall and CPU milliseconds of one forward + backward.
"""
import argparse
import json
import time

import torch


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: its default)")
    parser.add_argument("--batch", type=int, default=64)
    args = parser.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    layers = [("conv1", 1, 32, 28), ("conv2", 32, 64, 13), ("conv3", 64, 64, 5)]
    convs, xs = [], []
    for i, (_, c_in, c_out, size) in enumerate(layers):
        convs.append(torch.nn.Conv2d(c_in, c_out, 3))
        xs.append(torch.rand(args.batch, c_in, size, size).mul_(2).sub_(1).requires_grad_(i > 0))
    wall = {name: [] for name, *_ in layers}
    cpu = {name: [] for name, *_ in layers}
    total_wall, total_cpu = [], []
    for r in range(args.rounds + 1):
        rw = rc = 0.0
        for (name, *_), conv, x in zip(layers, convs, xs):
            w0, c0 = time.perf_counter(), time.process_time()
            y = conv(x)
            y.backward(torch.ones_like(y))
            c, w = time.process_time() - c0, time.perf_counter() - w0
            conv.zero_grad()
            x.grad = None
            if r == 0:
                continue
            wall[name].append(w * 1e3)
            cpu[name].append(c * 1e3)
            rw += w * 1e3
            rc += c * 1e3
        if r > 0:
            total_wall.append(rw)
            total_cpu.append(rc)

    def median(v):
        return sorted(v)[len(v) // 2]

    out = {"peer": "torch", "batch": args.batch, "threads": torch.get_num_threads()}
    for name, *_ in layers:
        out[f"{name}_ms"] = round(median(wall[name]), 3)
        out[f"{name}_cpu_ms"] = round(median(cpu[name]), 3)
    out["total_ms"] = round(median(total_wall), 3)
    out["total_cpu_ms"] = round(median(total_cpu), 3)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
