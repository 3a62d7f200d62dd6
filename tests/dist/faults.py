#!/usr/bin/env python3
"""A failing process ends the whole data-parallel job with a message, never a hang.

Runs apps/mnist under mpirun as two processes (Open MPI's MPMD syntax gives process 1 its
own arguments):
  1. process 1 cannot read its data: process 0 names it and its error; both exit 1;
  2. process 1 is started with other settings: the job is aborted with a message;
  3. process 1 is killed in the middle of training: mpirun ends the job and names it.

Usage: faults.py MPIRUN MNIST_APP MNIST_DIR (see mnist_jobs.py)
"""
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid

sys.dont_write_bytecode = True
from mnist_jobs import TIMEOUT, fail, run, setup  # noqa: E402


def pids_with(tag):
    """Processes whose environment holds XGRAD_FAULT_TAG=tag, as {pid: rank}."""
    found = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/environ", "rb") as f:
                env = dict(v.split(b"=", 1) for v in f.read().split(b"\0") if b"=" in v)
        except OSError:
            continue
        if env.get(b"XGRAD_FAULT_TAG") == tag.encode() and b"OMPI_COMM_WORLD_RANK" in env:
            found[int(name)] = int(env[b"OMPI_COMM_WORLD_RANK"])
    return found


def main():
    mpi, app, data = setup(sys.argv)
    common = ["--epochs", "1", "--verbose", "2", "--threads", "1"]

    # 1. Process 1 cannot read its data.
    with tempfile.TemporaryDirectory() as empty:
        status, output, seconds = run(mpi + ["-np", "1", app] + data + common +
                                      [":", "-np", "1", app, "--data", empty] + common)
    print(f"missing data: status {status} after {seconds:.1f} s")
    if status == 0:
        fail("the job succeeded without process 1's data", output)
    if output.count("mnist: error: process 1 of 2: ") != 1:
        fail("process 0 did not report process 1's error once", output)
    if empty not in output:
        fail("the message does not name the folder process 1 could not read", output)

    # 2. Process 1 has another batch size: its steps would never match process 0's.
    status, output, seconds = run(mpi + ["-np", "1", app] + data + common +
                                  [":", "-np", "1", app] + data + common + ["--batch-size", "64"])
    print(f"other settings: status {status} after {seconds:.1f} s")
    if status == 0:
        fail("the job succeeded with different batch sizes", output)
    if "expected the same on every process" not in output:
        fail("no message about the settings that differ", output)

    # 3. Process 1 is killed while training.
    tag = uuid.uuid4().hex
    env = dict(os.environ, XGRAD_FAULT_TAG=tag)
    job = subprocess.Popen(mpi + ["-x", "XGRAD_FAULT_TAG", "-np", "2", app] + data + common,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    lines = []
    reader = threading.Thread(target=lambda: lines.extend(job.stdout), daemon=True)
    reader.start()
    deadline = time.monotonic() + TIMEOUT
    while not any("Epoch 1/1" in line for line in lines):
        if job.poll() is not None or time.monotonic() > deadline:
            job.kill()
            fail("training did not start", "".join(lines))
        time.sleep(0.2)
    victims = [pid for pid, rank in pids_with(tag).items() if rank == 1]
    if len(victims) != 1:
        job.kill()
        fail(f"cannot find process 1 ({victims})", "".join(lines))
    os.kill(victims[0], signal.SIGKILL)
    killed = time.monotonic()
    try:
        status = job.wait(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        job.kill()
        fail(f"the job went on for {TIMEOUT} s after process 1 was killed", "".join(lines))
    reader.join(timeout=10)
    print(f"killed process: status {status}, ended {time.monotonic() - killed:.1f} s after the kill")
    if status == 0:
        fail("the job succeeded after process 1 was killed", "".join(lines))
    if "process rank 1" not in "".join(lines):
        fail("mpirun did not say which process died", "".join(lines))
    left = pids_with(tag)
    if left:
        fail(f"processes left behind: {left}", "".join(lines))
    print("PASS")


if __name__ == "__main__":
    main()
