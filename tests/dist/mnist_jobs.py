"""Runs apps/mnist as MPI jobs for the scripts beside it (faults.py, process_counts.py).

Their arguments: MPIRUN MNIST_APP MNIST_DIR. Without Open MPI's mpirun or without training
data they exit 77, meson's "skipped".
"""
import json
import os
import subprocess
import sys
import time

TIMEOUT = 600  # seconds for one job; a hang fails the test


def fail(message, output=""):
    print(output)
    print(f"FAIL: {message}")
    sys.exit(1)


def run(command, env=None):
    """(status, stdout and stderr, seconds) of a command that must end within TIMEOUT."""
    start = time.monotonic()
    try:
        done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              timeout=TIMEOUT, env=env)
    except subprocess.TimeoutExpired as e:
        output = e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
        fail(f"no end after {TIMEOUT} s: {' '.join(command)}", output)
    return done.returncode, done.stdout, time.monotonic() - start


def setup(argv):
    """(mpirun with its options, the app, the app's data arguments) from the script's arguments."""
    mpirun, app, mnist_dir = argv[1:4]
    version = subprocess.run([mpirun, "--version"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if "Open MPI" not in version.stdout:
        print("SKIP: needs Open MPI's mpirun (MPMD arguments, -x)")
        sys.exit(77)
    if os.path.isdir(mnist_dir) and any(f.startswith("train-images") for f in os.listdir(mnist_dir)):
        data = ["--data", mnist_dir]
    elif os.path.isdir("/usr/share/datasets/fashion-mnist"):
        data = ["--dataset", "fashion"]
    else:
        print("SKIP: no MNIST or Fashion-MNIST to train on")
        sys.exit(77)
    return [mpirun, "--allow-run-as-root", "--oversubscribe"], app, data


def json_line(output, command):
    """The object of the app's --json line, the last line of its output."""
    for line in reversed(output.splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    fail(f"no JSON line from {' '.join(command)}", output)
