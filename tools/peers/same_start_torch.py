#!/usr/bin/env python3
"""PyTorch side of tools/bench/same_start.cpp: trains the book's convnet from xgrad's initial
weights (PREFIX_initial.npz) in xgrad's sample order (PREFIX_order.bin), batch 64, RMSprop as
Keras sets it, cross-entropy on the logits, and prints each epoch's training loss and test
accuracy as JSON. xgrad's layout is channels-last: its kernels are transposed into torch's,
and the convolutions' output is flattened in xgrad's (height, width, channel) order.
"""
import argparse
import json
import os
import sys
import zipfile

import numpy as np
import torch

from mnist_torch import load_split


class ChannelsLast(torch.nn.Module):
    """(N, C, H, W) -> (N, H, W, C), so that Flatten orders features as xgrad's does."""

    def forward(self, x):
        return x.permute(0, 2, 3, 1)


def build_convnet(weights):
    model = torch.nn.Sequential(
        torch.nn.Conv2d(1, 32, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(32, 64, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(64, 64, 3), torch.nn.ReLU(),
        ChannelsLast(), torch.nn.Flatten(),
        torch.nn.Linear(576, 64), torch.nn.ReLU(),
        torch.nn.Linear(64, 10))
    names = ["conv2d_1", "conv2d_2", "conv2d_3", "dense_1", "dense_2"]
    layers = [m for m in model if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
    with torch.no_grad():
        for name, layer in zip(names, layers):
            kernel = torch.from_numpy(np.asarray(weights[f"{name}/kernel"], dtype=np.float32))
            # xgrad: (KH, KW, C_in, C_out) and (in, out); torch: (C_out, C_in, KH, KW) and (out, in).
            if kernel.dim() not in (2, 4):
                raise ValueError(f"{name}/kernel has {kernel.dim()} axes; expected 4 (a convolution) or 2 (a dense layer)")
            kernel = kernel.permute(3, 2, 0, 1) if kernel.dim() == 4 else kernel.t()
            if kernel.shape != layer.weight.shape:
                raise ValueError(f"{name}/kernel has shape {tuple(kernel.shape)} in torch's layout; "
                                 f"expected {tuple(layer.weight.shape)}")
            bias = torch.from_numpy(np.asarray(weights[f"{name}/bias"], dtype=np.float32))
            if bias.shape != layer.bias.shape:
                raise ValueError(f"{name}/bias has shape {tuple(bias.shape)}; expected {tuple(layer.bias.shape)}")
            layer.weight.copy_(kernel)
            layer.bias.copy_(bias)
    return model


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="folder with the four (Fashion-)MNIST IDX .gz files")
    parser.add_argument("--start", required=True, help="the PREFIX given to same_start --out")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    if args.epochs < 1 or args.threads < 1:
        parser.error("--epochs and --threads must be >= 1")
    torch.set_num_threads(args.threads)
    try:
        x_train, y_train = load_split(args.data, "train")
        x_test, y_test = load_split(args.data, "t10k")
        with np.load(args.start + "_initial.npz") as weights:
            model = build_convnet(weights)
        order = np.fromfile(args.start + "_order.bin", dtype="<u4").astype(np.int64)
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as e:
        # A missing or corrupt file: a truncated .gz (EOFError), a damaged .npz (BadZipFile).
        print(f"same_start_torch: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    n = x_train.shape[0]
    if order.size < args.epochs * n or order.max(initial=0) >= n:
        print(f"same_start_torch: {args.start}_order.bin holds {order.size} rows; expected {args.epochs} epochs of "
              f"{n} indices below {n}", file=sys.stderr)
        return 1
    order = torch.from_numpy(order[:args.epochs * n].reshape(args.epochs, n))
    x_train, x_test = x_train.view(-1, 1, 28, 28), x_test.view(-1, 1, 28, 28)
    optimizer = torch.optim.RMSprop(model.parameters(), lr=1e-3, alpha=0.9, eps=1e-7)
    loss_fn = torch.nn.CrossEntropyLoss()
    losses, accuracies = [], []
    for epoch in range(args.epochs):
        total = 0.0
        for first in range(0, n, 64):
            rows = order[epoch, first:first + 64]
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(x_train.index_select(0, rows)), y_train.index_select(0, rows))
            loss.backward()
            optimizer.step()
            total += loss.item() * rows.shape[0]
        losses.append(total / n)
        with torch.no_grad():
            correct = sum((model(x_test[i:i + 1000]).argmax(dim=1) == y_test[i:i + 1000]).sum().item()
                          for i in range(0, x_test.shape[0], 1000))
        accuracies.append(correct / x_test.shape[0])
        print(f"epoch {epoch + 1}/{args.epochs}: loss {losses[-1]:.4f}, test accuracy {accuracies[-1]:.4f}",
              file=sys.stderr, flush=True)
    print(json.dumps({"impl": "pytorch", "train_loss": [round(v, 5) for v in losses],
                      "test_accuracy": [round(v, 4) for v in accuracies]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
