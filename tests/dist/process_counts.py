#!/usr/bin/env python3
"""apps/mnist trains the same whatever the number of processes, and its checkpoints move
between process counts.

  1. -np 2 and -np 1, same seed and global batch: the first epoch's loss agrees within 1e-4
     (relative); --json says world_size and lists train_loss, one value per epoch;
  2. a checkpoint written by 2 processes resumes with 1, and one written by 1 resumes with 2:
     the resumed epoch's loss is the uninterrupted run's.

Every job uses one BLAS thread per process, so that sgemm sums in the same order in all of
them, and batches of 500 (120 steps per epoch) to keep the jobs short on a busy machine.

Usage: process_counts.py MPIRUN MNIST_APP MNIST_DIR (see mnist_jobs.py)
"""
import sys
import tempfile

sys.dont_write_bytecode = True
from mnist_jobs import fail, json_line, run, setup  # noqa: E402

FIRST_EPOCH_TOLERANCE = 1e-4  # relative: float summation order only
RESUMED_EPOCH_TOLERANCE = 1e-3  # relative, after an epoch of steps in another summation order


def relative(a, b):
    return abs(a - b) / max(abs(b), 1e-12)


def main():
    mpi, app, data = setup(sys.argv)
    common = data + ["--threads", "1", "--batch-size", "500", "--seed", "3", "--verbose", "0", "--json"]

    def train(processes, *args):
        command = mpi + ["-np", str(processes), app] + common + list(args)
        status, output, seconds = run(command)
        if status != 0:
            fail(f"status {status}: {' '.join(command)}", output)
        result = json_line(output, command)
        print(f"-np {processes} {' '.join(args)}: {seconds:.1f} s, train_loss {result.get('train_loss')}")
        if result.get("world_size") != processes:
            fail(f"world_size {result.get('world_size')} in --json; expected {processes}", output)
        return result

    def check_losses(result, epochs):
        losses = result.get("train_loss")
        if not isinstance(losses, list) or len(losses) != epochs:
            fail(f"train_loss {losses} in --json; expected a list of {epochs} values")
        return losses

    alone = check_losses(train(1, "--epochs", "2"), 2)

    with tempfile.TemporaryDirectory() as scratch:
        # 1 and 2: two processes write the checkpoint of their first epoch, one resumes it.
        pair = check_losses(train(2, "--epochs", "1", "--checkpoint", f"{scratch}/from2"), 1)
        difference = relative(pair[0], alone[0])
        print(f"first epoch: -np 2 {pair[0]:.10f}, -np 1 {alone[0]:.10f}, relative difference {difference:.2e}")
        if difference > FIRST_EPOCH_TOLERANCE:
            fail(f"first-epoch losses differ by {difference:.2e}; expected at most {FIRST_EPOCH_TOLERANCE}")
        resumed = check_losses(train(1, "--epochs", "2", "--checkpoint", f"{scratch}/from2", "--resume"), 2)
        difference = relative(resumed[1], alone[1])
        print(f"written by 2, resumed by 1: second epoch {resumed[1]:.10f}, relative difference {difference:.2e}")
        if resumed[0] != pair[0] or difference > RESUMED_EPOCH_TOLERANCE:
            fail(f"resumed losses {resumed}; expected [{pair[0]}, {alone[1]} within {RESUMED_EPOCH_TOLERANCE}]")

        # 2: one process writes the checkpoint, two resume it.
        train(1, "--epochs", "1", "--checkpoint", f"{scratch}/from1")
        resumed = check_losses(train(2, "--epochs", "2", "--checkpoint", f"{scratch}/from1", "--resume"), 2)
        difference = relative(resumed[1], alone[1])
        print(f"written by 1, resumed by 2: second epoch {resumed[1]:.10f}, relative difference {difference:.2e}")
        if resumed[0] != alone[0] or difference > RESUMED_EPOCH_TOLERANCE:
            fail(f"resumed losses {resumed}; expected [{alone[0]}, {alone[1]} within {RESUMED_EPOCH_TOLERANCE}]")
    print("PASS")


if __name__ == "__main__":
    main()
