#!/usr/bin/env python3
"""PyTorch peer of tools/bench/recurrent.cpp: one training step of Embedding(vocabulary, units)
-> nn.RNN/LSTM/GRU(units) (batch first, its fused kernels) -> Linear(units, 1) on sequences of
word ids, binary cross-entropy on the logit, RMSprop as Keras sets it. The last stdout line is
JSON: the median wall and CPU milliseconds of a step (forward, backward, update).
"""
import argparse
import json
import time

import torch


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--layer", choices=["simple_rnn", "lstm", "gru"], default="lstm")
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: its default)")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--units", type=int, default=32)
    parser.add_argument("--vocabulary", type=int, default=10000)
    args = parser.parse_args()
    if min(args.rounds, args.batch, args.steps, args.units, args.vocabulary) < 1 or args.threads < 0:
        parser.error("--rounds, --batch, --steps, --units and --vocabulary must be >= 1, --threads >= 0")
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    cell = {"simple_rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[args.layer]
    embedding = torch.nn.Embedding(args.vocabulary, args.units)
    recurrent = cell(args.units, args.units, batch_first=True)
    head = torch.nn.Linear(args.units, 1)
    parameters = [*embedding.parameters(), *recurrent.parameters(), *head.parameters()]
    optimizer = torch.optim.RMSprop(parameters, lr=1e-3, alpha=0.9, eps=1e-7)
    # The same fixed ids and alternating labels as the xgrad side.
    ids = (torch.arange(args.batch * args.steps) * 7919 % args.vocabulary).view(args.batch, args.steps)
    labels = (torch.arange(args.batch) % 2).float().view(args.batch, 1)
    wall, cpu = [], []
    for r in range(args.rounds + 1):
        w0, c0 = time.perf_counter(), time.process_time()
        outputs, _ = recurrent(embedding(ids))
        loss = torch.nn.functional.binary_cross_entropy_with_logits(head(outputs[:, -1]), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        c, w = time.process_time() - c0, time.perf_counter() - w0
        if r == 0:
            continue  # warm-up
        wall.append(w * 1e3)
        cpu.append(c * 1e3)
    median = lambda v: sorted(v)[len(v) // 2]
    print(json.dumps({"peer": "pytorch", "layer": args.layer, "batch": args.batch, "steps": args.steps,
                      "units": args.units, "threads": torch.get_num_threads(),
                      "step_ms": round(median(wall), 3), "step_cpu_ms": round(median(cpu), 3)}))


if __name__ == "__main__":
    main()
