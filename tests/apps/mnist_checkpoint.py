#!/usr/bin/env python3
"""Checkpoints through apps/mnist, one case per run:

  mnist_checkpoint.py CASE MNIST_APP DATA_DIR

kill_resume  a 3-epoch run (first 8000 images, seed 7, one thread) killed with SIGKILL in the
             middle of epoch 2, resumed with --resume, ends with exactly the per-epoch losses,
             accuracies and test loss of an uninterrupted run
bad_files    a damaged checkpoint, an archive that is not one, and a checkpoint folder that cannot
             be created: status 1 and a message naming the path, before any training; no crash
anomaly      a checkpoint whose weights hold NaN: resuming reports divergence, and with
             --detect-anomaly names the op and layer that produced it

Exits 77 (skipped) when DATA_DIR holds no MNIST files.
"""
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
import zlib

EPOCHS = 3
COMMON = ["--seed", "7", "--threads", "1", "--batch-size", "128", "--verbose", "2"]


def fail(message):
    print(f"FAIL: {message}")
    sys.exit(1)


def run(app, data, *args):
    """Runs the app to the end; returns (status, combined output)."""
    done = subprocess.run([app, "--data", data, *COMMON, *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=600)
    return done.returncode, done.stdout


def json_line(output):
    for line in reversed(output.splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    fail(f"no JSON line in:\n{output}")


def manifest(path):
    with zipfile.ZipFile(path) as z:
        return json.loads(z.read("__manifest__.json"))


def expect_error(status, output, needle, what):
    """A clean error exit: status 1 (not a signal), the message, and no sign of a crash."""
    print(output)
    if status != 1:
        fail(f"{what}: exit status {status}; expected 1")
    if needle not in output:
        fail(f"{what}: no '{needle}' in the output")
    for crash in ("terminate called", "Aborted", "Segmentation", "core dumped"):
        if crash in output:
            fail(f"{what}: '{crash}' in the output")
    print(f"ok: {what}")


def kill_resume(app, data, tmp):
    checkpoint = os.path.join(tmp, "run")
    ck_file = os.path.join(checkpoint, "checkpoint.npz")
    started = time.monotonic()
    status, output = run(app, data, "--train-limit", "8000", "--epochs", str(EPOCHS), "--json")
    if status != 0:
        fail(f"uninterrupted run exited {status}:\n{output}")
    reference = json_line(output)
    uninterrupted_seconds = time.monotonic() - started

    # The run to kill: stdout is read line by line to time epoch 1 ("Epoch 1/3" to its checkpoint).
    child = subprocess.Popen([app, "--data", data, *COMMON, "--train-limit", "8000", "--epochs", str(EPOCHS),
                              "--checkpoint", checkpoint],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines, seen = [], {}

    def read():
        for line in child.stdout:
            lines.append(line)
            for n in range(1, EPOCHS + 1):
                if line.startswith(f"Epoch {n}/{EPOCHS}") and n not in seen:
                    seen[n] = time.monotonic()

    reader = threading.Thread(target=read)
    reader.start()
    deadline = time.monotonic() + 300
    while not os.path.exists(ck_file):
        if child.poll() is not None or time.monotonic() > deadline:
            child.kill()
            reader.join()
            fail(f"no checkpoint appeared:\n{''.join(lines)}")
        time.sleep(0.002)
    first_epoch = time.monotonic() - seen.get(1, started)
    # Halfway through epoch 2's training, wherever the process is (a step, the shuffle, the
    # progress output): timed from the line that starts it, by the uninterrupted run's second
    # epoch, as a first epoch (warming up) can take twice as long as the second.
    while 2 not in seen:
        if child.poll() is not None or time.monotonic() > deadline:
            child.kill()
            reader.join()
            fail(f"epoch 2 did not start:\n{''.join(lines)}")
        time.sleep(0.001)
    into_epoch_2 = reference["epoch_seconds"][1] / 2
    time.sleep(max(0.0, into_epoch_2 - (time.monotonic() - seen[2])))
    child.send_signal(signal.SIGKILL)
    child.wait()
    reader.join()
    killed_output = "".join(lines)
    print(killed_output)
    if child.returncode != -signal.SIGKILL:
        fail(f"the run ended with status {child.returncode}, not by SIGKILL")
    epochs_done = manifest(ck_file)["metadata"]["epochs_done"]
    if epochs_done != 1 or f"Epoch 2/{EPOCHS}" not in killed_output or f"Epoch 3/{EPOCHS}" in killed_output:
        fail(f"the kill did not land in epoch 2 (checkpoint after epoch {epochs_done}); aimed {into_epoch_2:.3f} s into "
             f"it, epoch 1 took {first_epoch:.3f} s")
    print(f"killed {into_epoch_2:.3f} s into epoch 2 (epoch 1 took {first_epoch:.3f} s); checkpoint: epoch 1")

    status, output = run(app, data, "--train-limit", "8000", "--epochs", str(EPOCHS), "--checkpoint", checkpoint,
                         "--resume", "--json")
    print(output)
    if status != 0:
        fail(f"resumed run exited {status}")
    if f"Resuming from epoch 1 of {checkpoint}" not in output:
        fail("the resumed run did not say it resumed from epoch 1")
    resumed = json_line(output)
    for key in ("train_loss", "train_accuracy", "test_loss", "test_accuracy"):
        print(f"{key}: uninterrupted {reference[key]}, killed and resumed {resumed[key]}")
        if resumed[key] != reference[key]:
            fail(f"{key} differs")
    if len(resumed["train_loss"]) != EPOCHS:
        fail(f"{len(resumed['train_loss'])} epochs of losses; expected {EPOCHS}")
    if manifest(ck_file)["metadata"]["epochs_done"] != EPOCHS:
        fail(f"the last checkpoint is not after epoch {EPOCHS}")
    print(f"ok: identical after a kill in epoch 2 (uninterrupted run: {uninterrupted_seconds:.1f} s)")


def write_checkpoint(app, data, checkpoint):
    status, output = run(app, data, "--epochs", "1", "--train-limit", "512", "--checkpoint", checkpoint)
    if status != 0:
        fail(f"could not write a checkpoint:\n{output}")
    return os.path.join(checkpoint, "checkpoint.npz")


def bad_files(app, data, tmp):
    checkpoint = os.path.join(tmp, "run")
    ck_file = write_checkpoint(app, data, checkpoint)
    with open(ck_file, "rb") as f:
        good = f.read()
    resume = ["--train-limit", "512", "--epochs", "2", "--checkpoint", checkpoint, "--resume"]

    with open(ck_file, "wb") as f:
        f.write(good[: len(good) // 2])
    status, output = run(app, data, *resume)
    expect_error(status, output, f"mnist: error: load_checkpoint: {ck_file}: ", "truncated checkpoint")

    with open(ck_file, "wb") as f:
        f.write(b"not a zip archive at all\n")
    status, output = run(app, data, *resume)
    expect_error(status, output, f"mnist: error: load_checkpoint: {ck_file}: ", "checkpoint that is not an archive")

    flipped = bytearray(good)
    flipped[len(good) // 3] ^= 0x40
    with open(ck_file, "wb") as f:
        f.write(bytes(flipped))
    status, output = run(app, data, *resume)
    expect_error(status, output, f"mnist: error: load_checkpoint: {ck_file}: ", "checkpoint with a flipped bit")

    a_file = os.path.join(tmp, "a-file")
    with open(a_file, "w") as f:
        f.write("x")
    status, output = run(app, data, "--train-limit", "512", "--epochs", "1", "--checkpoint", os.path.join(a_file, "run"))
    expect_error(status, output, f"mnist: error: CheckpointCallback: {a_file}/run: cannot create the folder",
                 "checkpoint folder below a file")
    if "Epoch 1/" in output:
        fail("training started before the checkpoint folder was checked")
    status, output = run(app, data, "--train-limit", "512", "--epochs", "1", "--checkpoint", a_file, "--resume")
    expect_error(status, output, f"mnist: error: load_checkpoint: {a_file} is not a folder", "checkpoint folder that is a file")


def poison(ck_file, member):
    """Rewrites `member` (an .npy in the archive) as all NaN, with checksums that match."""
    with zipfile.ZipFile(ck_file) as z:
        members = [(info.filename, z.read(info.filename)) for info in z.infolist()]
    out = []
    for name, data in members:
        if name == member:
            header_end = 10 + int.from_bytes(data[8:10], "little")
            data = data[:header_end] + b"\x00\x00\xc0\x7f" * ((len(data) - header_end) // 4)
            poisoned_crc = zlib.crc32(data[header_end:])
        out.append((name, data))
    manifest_json = json.loads(dict(out)["__manifest__.json"])
    for p in manifest_json["parameters"]:
        if p["name"] + ".npy" == member:
            p["crc32"] = poisoned_crc
    with zipfile.ZipFile(ck_file, "w", zipfile.ZIP_STORED) as z:
        for name, data in out:
            z.writestr(name, json.dumps(manifest_json) if name == "__manifest__.json" else data)


def anomaly(app, data, tmp):
    checkpoint = os.path.join(tmp, "run")
    ck_file = write_checkpoint(app, data, checkpoint)
    poison(ck_file, "model/dense_1/bias.npy")
    resume = ["--train-limit", "512", "--epochs", "2", "--checkpoint", checkpoint, "--resume"]
    status, output = run(app, data, *resume)
    expect_error(status, output, "mnist: error: train_step: loss is not finite (nan); training diverged",
                 "diverged run without anomaly detection")
    status, output = run(app, data, *resume, "--detect-anomaly")
    expect_error(status, output,
                 "mnist: error: anomaly: op 'linear' in sequential_1/dense_1 produced NaN or Inf in its output (128, 512)",
                 "diverged run with --detect-anomaly")


def main():
    if len(sys.argv) != 4:
        print(__doc__)
        sys.exit(2)
    case, app, data = sys.argv[1:]
    if not os.path.exists(os.path.join(data, "train-images-idx3-ubyte.gz")):
        print(f"skipped: no MNIST files in {data}")
        sys.exit(77)
    with tempfile.TemporaryDirectory(prefix="xgrad-app-") as tmp:
        {"kill_resume": kill_resume, "bad_files": bad_files, "anomaly": anomaly}[case](os.path.abspath(app), data, tmp)


if __name__ == "__main__":
    main()
