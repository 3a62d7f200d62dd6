#!/usr/bin/env python3
"""PyTorch peer of the reference models, for tools/benchmark.

--model dense (the default): Dense(784->512, relu) -> Dense(512->10, softmax), batch 128;
--hidden 2048,2048 gives it other hidden layers (784 -> 2048 -> 2048 -> 10).
--model convnet (Deep Learning with Python, 5.1): Conv2D(32, 3x3, relu) -> MaxPooling2D(2x2)
-> Conv2D(64, 3x3, relu) -> MaxPooling2D(2x2) -> Conv2D(64, 3x3, relu) -> Flatten ->
Dense(64, relu) -> Dense(10, softmax), batch 64.
Both on MNIST, trained as Keras trains them: glorot_uniform weights, zero biases,
RMSprop(lr=1e-3, rho=0.9, eps=1e-7 outside the sqrt), batches reshuffled every epoch,
categorical cross-entropy. The last stdout line is JSON.
"""
import argparse
import gzip
import json
import os
import struct
import sys
import time

import numpy as np
import torch

IMAGE_MAGIC = 2051
LABEL_MAGIC = 2049


def read_idx(path, magic, rank):
    with gzip.open(path, "rb") as f:
        data = f.read()
    found, = struct.unpack(">I", data[:4])
    if found != magic:
        raise ValueError(f"{path}: IDX magic {found}; expected {magic}")
    dims = struct.unpack(">" + "I" * rank, data[4:4 + 4 * rank])
    body = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * rank)
    if body.size != int(np.prod(dims)):
        raise ValueError(f"{path}: {body.size} bytes of data; expected {int(np.prod(dims))} for shape {dims}")
    return body.reshape(dims)


def load_split(data_dir, prefix):
    images = read_idx(os.path.join(data_dir, f"{prefix}-images-idx3-ubyte.gz"), IMAGE_MAGIC, 3)
    labels = read_idx(os.path.join(data_dir, f"{prefix}-labels-idx1-ubyte.gz"), LABEL_MAGIC, 1)
    if images.shape[0] != labels.shape[0]:
        raise ValueError(f"{prefix}: {images.shape[0]} images but {labels.shape[0]} labels")
    x = images.reshape(images.shape[0], -1).astype(np.float32)
    x /= 255.0  # in place: a temporary copy would show in the peak RSS
    x = torch.from_numpy(x)
    # Class indices rather than one-hot: cross_entropy on indices is the same loss.
    y = torch.from_numpy(labels.astype(np.int64))
    return x, y


def build_convnet():
    # torch's layout is NCHW, Keras's NHWC; the layers and their sizes are the same, and so is
    # the glorot limit: torch's fan_in (C_in kh kw) and fan_out (C_out kh kw) are Keras's.
    model = torch.nn.Sequential(
        torch.nn.Conv2d(1, 32, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(32, 64, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(64, 64, 3), torch.nn.ReLU(),
        torch.nn.Flatten(),
        torch.nn.Linear(576, 64), torch.nn.ReLU(),
        torch.nn.Linear(64, 10))
    for layer in model:
        if isinstance(layer, (torch.nn.Conv2d, torch.nn.Linear)):
            torch.nn.init.xavier_uniform_(layer.weight)
            torch.nn.init.zeros_(layer.bias)
    return model


def build_model(hidden):
    layers, width = [], 784
    for units in hidden:
        layers += [torch.nn.Linear(width, units), torch.nn.ReLU()]
        width = units
    layers.append(torch.nn.Linear(width, 10))
    model = torch.nn.Sequential(*layers)
    # torch stores weights as (out, in), Keras as (in, out); the glorot limit
    # sqrt(6 / (in + out)) is symmetric in the two, so xavier_uniform_ matches.
    for layer in model:
        if isinstance(layer, torch.nn.Linear):
            torch.nn.init.xavier_uniform_(layer.weight)
            torch.nn.init.zeros_(layer.bias)
    return model


def widths(text):
    try:
        values = [int(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of widths: {text}")
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"widths must be >= 1: {text}")
    return values


def default_threads():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=os.environ.get("XGRAD_DATA", "../shared/data/mnist"),
                        help="folder with the four MNIST IDX .gz files (default: $XGRAD_DATA or %(default)s)")
    parser.add_argument("--model", choices=["dense", "convnet"], default="dense")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=None, help="default: 128 dense, 64 convnet")
    parser.add_argument("--threads", type=int, default=default_threads(),
                        help="torch.set_num_threads (default: the cores this process may use)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--hidden", type=widths, default=[512],
                        help="the dense model's hidden widths, e.g. 2048,2048 (default: 512)")
    parser.add_argument("--train-limit", type=int, default=0,
                        help="train on the first N training images only (default: all)")
    args = parser.parse_args()
    if args.batch_size is None:
        args.batch_size = 64 if args.model == "convnet" else 128
    if args.epochs < 1 or args.batch_size < 1 or args.threads < 1 or args.train_limit < 0:
        parser.error("--epochs, --batch-size and --threads must be >= 1, --train-limit >= 0")

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    try:
        x_train, y_train = load_split(args.data, "train")
        x_test, y_test = load_split(args.data, "t10k")
    except (OSError, ValueError) as e:
        print(f"mnist_torch: cannot read MNIST from {args.data}: {e}", file=sys.stderr)
        return 1
    if args.train_limit:
        x_train, y_train = x_train[:args.train_limit], y_train[:args.train_limit]

    if args.model == "convnet":
        # (N, 784) -> (N, 1, 28, 28): a view, no copy.
        x_train = x_train.view(-1, 1, 28, 28)
        x_test = x_test.view(-1, 1, 28, 28)
    model = build_convnet() if args.model == "convnet" else build_model(args.hidden)
    # torch's RMSprop adds eps outside the sqrt, as Keras does; alpha is Keras's rho.
    optimizer = torch.optim.RMSprop(model.parameters(), lr=1e-3, alpha=0.9, eps=1e-7)
    loss_fn = torch.nn.CrossEntropyLoss()
    n = x_train.shape[0]
    generator = torch.Generator().manual_seed(args.seed)

    epoch_seconds = []
    # Process CPU time (all threads): unlike wall time it does not count waiting for a core
    # that another program holds, so a single-threaded run can be timed on a busy machine.
    epoch_cpu_seconds = []
    train_loss = []
    for epoch in range(args.epochs):
        start = time.perf_counter()
        cpu_start = time.process_time()
        perm = torch.randperm(n, generator=generator)
        total = 0.0
        # A gather per batch, as Keras and DataLoader do; a shuffled copy of the whole set
        # would cost the same copying but double the data's share of the peak RSS.
        for first in range(0, n, args.batch_size):
            rows = perm[first:first + args.batch_size]
            xb = x_train.index_select(0, rows)
            yb = y_train.index_select(0, rows)
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()
            total += loss.item() * xb.shape[0]
        epoch_seconds.append(time.perf_counter() - start)
        epoch_cpu_seconds.append(time.process_time() - cpu_start)
        train_loss.append(total / n)
        print(f"epoch {epoch + 1}/{args.epochs}: {epoch_seconds[-1]:.3f} s, loss {train_loss[-1]:.4f}", flush=True)

    with torch.no_grad():
        if args.model == "convnet":
            # In batches, as Keras's evaluate does: the whole test set at once would hold
            # 10,000 x 32 x 26 x 26 activations (865 MB) and dominate the peak RSS.
            total_loss, correct = 0.0, 0
            for first in range(0, x_test.shape[0], args.batch_size):
                xb, yb = x_test[first:first + args.batch_size], y_test[first:first + args.batch_size]
                logits = model(xb)
                total_loss += loss_fn(logits, yb).item() * xb.shape[0]
                correct += (logits.argmax(dim=1) == yb).sum().item()
            test_loss = total_loss / x_test.shape[0]
            test_accuracy = correct / x_test.shape[0]
        else:
            logits = model(x_test)
            test_loss = loss_fn(logits, y_test).item()
            test_accuracy = (logits.argmax(dim=1) == y_test).float().mean().item()

    print(json.dumps({
        "impl": "pytorch",
        "model": args.model,
        "threads": torch.get_num_threads(),
        "epoch_seconds": epoch_seconds,
        "epoch_cpu_seconds": epoch_cpu_seconds,
        "train_seconds": sum(epoch_seconds),
        "train_loss": train_loss,
        "test_accuracy": test_accuracy,
        "test_loss": test_loss,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
