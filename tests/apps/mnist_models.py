#!/usr/bin/env python3
"""Saved models and resumed runs through apps/mnist and apps/predict, one case per run:

  mnist_models.py CASE MNIST_APP PREDICT_APP DATA_DIR

save_predict   mnist --save-model writes a model; predict, which never built it, reports the
               same test accuracy on the IDX test files, and classifies a PNG and a PGM of a test image
               as the model does; a damaged model file is a clean error naming it
save_predict_convnet  the same with --model convnet: predict rebuilds the convnet and feeds it
               (28, 28, 1) images
resume_fewer   resuming a 2-epoch checkpoint with --epochs 1 and another --learning-rate says
               that both are ignored, and the JSON counts the 2 epochs it holds

Exits 77 (skipped) when DATA_DIR holds no MNIST files.
"""
import gzip
import json
import math
import os
import struct
import subprocess
import sys
import tempfile
import zlib

COMMON = ["--seed", "3", "--threads", "1", "--verbose", "0", "--train-limit", "2000"]


def fail(message):
    print(f"FAIL: {message}")
    sys.exit(1)


def run(*args):
    done = subprocess.run(list(args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=600)
    print(done.stdout[-3000:])
    return done.returncode, done.stdout


def json_line(output):
    for line in reversed(output.splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    fail(f"no JSON line in:\n{output}")


def find(data, stem):
    for name in (stem, stem + ".gz"):
        path = os.path.join(data, name)
        if os.path.exists(path):
            return path
    return None


def first_test_image(path):
    """(rows, cols, pixels) of image 0 of an IDX image file."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        magic, count, rows, cols = struct.unpack(">IIII", f.read(16))
        return rows, cols, f.read(rows * cols)


def write_gray_png(path, rows, cols, pixels):
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    raw = b"".join(b"\0" + pixels[r * cols:(r + 1) * cols] for r in range(rows))
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", cols, rows, 8, 0, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def save_predict(mnist, predict, data, tmp, model_kind="dense"):
    model = os.path.join(tmp, "model.npz")
    status, output = run(mnist, "--data", data, *COMMON, "--model", model_kind, "--epochs", "1", "--save-model", model,
                         "--json")
    if status != 0:
        fail(f"mnist exited {status}")
    reference = json_line(output)["test_accuracy"]
    images, labels = find(data, "t10k-images-idx3-ubyte"), find(data, "t10k-labels-idx1-ubyte")
    status, output = run(predict, model, "--images", images, "--labels", labels)
    if status != 0:
        fail(f"predict exited {status}")
    line = [l for l in output.splitlines() if l.startswith("test_acc: ")]
    if not line or abs(float(line[0].split()[1]) - reference) > 1e-4:
        fail(f"predict's accuracy {line} differs from mnist's {reference:.4f}")
    print(f"ok: predict's test accuracy is mnist's ({reference:.4f})")

    rows, cols, pixels = first_test_image(images)
    png = os.path.join(tmp, "digit.png")
    write_gray_png(png, rows, cols, pixels)
    status, output = run(predict, model, png)
    if status != 0 or f"{png}: class " not in output:
        fail(f"predict on a PNG exited {status}")
    # The first MNIST test image is a 7, which a model at 0.9 accuracy classifies right.
    if f"{png}: class 7 " not in output:
        fail("the PNG of test image 0 (a 7) was not classified as 7")
    print("ok: the PNG of a test image is classified")

    pgm = os.path.join(tmp, "digit.pgm")
    with open(pgm, "wb") as f:
        f.write(b"P5\n# test image 0\n%d %d\n255\n" % (cols, rows) + pixels)
    status, output = run(predict, model, pgm)
    if status != 0 or f"{pgm}: class 7 " not in output:
        fail(f"predict on a PGM of test image 0 exited {status}; expected class 7")
    print("ok: the PGM of a test image is classified")

    # Twice the size, with black margins left and right (56 x 84): refused as it is, classified
    # with --resize 28x28 (the centred 56 x 56 window, halved).
    wide = b"".join(b"\0" * 14 + bytes(p for p in pixels[r * cols:(r + 1) * cols] for _ in range(2)) + b"\0" * 14
                    for r in range(rows) for _ in range(2))
    big = os.path.join(tmp, "big.png")
    write_gray_png(big, 2 * rows, 2 * cols + 28, wide)
    status, output = run(predict, model, big)
    if status != 1 or "--resize" not in output:
        fail(f"predict on a 56 x 84 image without --resize: status {status}; expected 1 and a hint at --resize")
    status, output = run(predict, model, big, "--resize", f"{rows}x{cols}")
    if status != 0 or f"{big}: class 7 " not in output:
        fail(f"predict --resize on the enlarged test image 0: status {status}, {output!r}; expected class 7")
    status, output = run(predict, model, big, "--resize", "28")
    if status == 0 or "--resize: '28'; expected HEIGHTxWIDTH" not in output:
        fail(f"predict --resize 28: status {status}; expected a usage error naming the flag")
    print("ok: an image of another size is classified with --resize")

    for name, content in (("cut.pgm", b"P5\n28 28\n255\n" + pixels[:100]), ("cut.png", open(png, "rb").read()[:60])):
        bad = os.path.join(tmp, name)
        with open(bad, "wb") as f:
            f.write(content)
        status, output = run(predict, model, bad)
        if status != 1 or bad not in output or "Segmentation" in output or "terminate" in output:
            fail(f"a damaged image {name}: status {status}; expected 1 and a message naming the file")
    print("ok: damaged PGM and PNG images are clean errors naming the file")

    damaged = os.path.join(tmp, "damaged.npz")
    with open(model, "rb") as f:
        data_bytes = f.read()
    with open(damaged, "wb") as f:
        f.write(data_bytes[: len(data_bytes) // 2])
    status, output = run(predict, damaged, png)
    if status != 1 or "damaged.npz" not in output or "Segmentation" in output or "terminate" in output:
        fail(f"a damaged model file: status {status}; expected 1 and a message naming the file")
    print("ok: a damaged model file is a clean error")


def hidden(mnist, predict, data, tmp):
    """--hidden gives the dense model other hidden layers, which a saved model keeps."""
    model = os.path.join(tmp, "model.npz")
    status, output = run(mnist, "--data", data, *COMMON, "--hidden", "64,32", "--epochs", "1", "--save-model", model,
                         "--json")
    if status != 0:
        fail(f"mnist --hidden 64,32 exited {status}")
    # 784*64 + 64 + 64*32 + 32 + 32*10 + 10
    if "dense_3 (Dense)" not in output or "Total params: 52,650" not in output:
        fail("the summary of --hidden 64,32 does not show three Dense layers and 52,650 parameters")
    reference = json_line(output)["test_accuracy"]
    images, labels = find(data, "t10k-images-idx3-ubyte"), find(data, "t10k-labels-idx1-ubyte")
    status, output = run(predict, model, "--images", images, "--labels", labels)
    line = [l for l in output.splitlines() if l.startswith("test_acc: ")]
    if status != 0 or not line or abs(float(line[0].split()[1]) - reference) > 1e-4:
        fail(f"predict on the --hidden model: status {status}, {line}; expected mnist's {reference:.4f}")
    print("ok: --hidden 64,32 trains 784-64-32-10 and predict runs its saved model")

    for bad in (["--hidden", "0"], ["--hidden", "64,x"], ["--model", "convnet", "--hidden", "64"]):
        status, output = run(mnist, "--data", data, *COMMON, "--epochs", "1", *bad)
        if status == 0 or "--hidden" not in output or "Segmentation" in output or "terminate" in output:
            fail(f"mnist {' '.join(bad)}: status {status}; expected a non-zero exit naming --hidden")
    print("ok: a bad --hidden is a clean error")


def resume_fewer(mnist, predict, data, tmp):
    checkpoint = os.path.join(tmp, "run")
    status, output = run(mnist, "--data", data, *COMMON, "--epochs", "2", "--checkpoint", checkpoint)
    if status != 0:
        fail(f"the first run exited {status}")
    status, output = run(mnist, "--data", data, *COMMON, "--epochs", "1", "--checkpoint", checkpoint, "--resume",
                         "--learning-rate", "0.01", "--json")
    if status != 0:
        fail(f"the resumed run exited {status}")
    for needle in ("--learning-rate 0.01 is ignored", "already holds 2 epochs; --epochs 1 trains none"):
        if needle not in output:
            fail(f"no '{needle}' in the resumed run's output")
    j = json_line(output)
    if j["epochs"] != 2 or len(j["train_loss"]) != 2 or j["epochs_requested"] != 1:
        fail(f"JSON epochs {j['epochs']}, {len(j['train_loss'])} losses, requested {j['epochs_requested']}; "
             "expected 2, 2 and 1")
    print("ok: the resumed run says what it ignores and its JSON counts the checkpoint's epochs")


def validation_json(mnist, predict, data, tmp):
    status, output = run(mnist, "--data", data, *COMMON, "--epochs", "2", "--validation-split", "0.2", "--json")
    if status != 0:
        fail(f"the run with --validation-split exited {status}")
    j = json_line(output)
    for key in ("val_loss", "val_accuracy"):
        values = j.get(key)
        if not isinstance(values, list) or len(values) != 2 or not all(isinstance(v, float) and math.isfinite(v)
                                                                       for v in values):
            fail(f"JSON {key} is {values!r}; expected one finite value per epoch (2)")
    if not 0.5 < j["val_accuracy"][-1] <= 1.0:
        fail(f"validation accuracy {j['val_accuracy'][-1]} after 2 epochs on 1,600 images; expected above 0.5")
    status, output = run(mnist, "--data", data, *COMMON, "--epochs", "1", "--json")
    j = json_line(output)
    if status != 0 or "val_loss" in j or "val_accuracy" in j:
        fail(f"a run without --validation-split: status {status}, keys {sorted(j)}; expected no val_ series")
    print("ok: --json carries val_loss and val_accuracy per epoch with --validation-split, and only then")


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    case, mnist, predict, data = sys.argv[1:]
    if not find(data, "train-images-idx3-ubyte") or not find(data, "t10k-images-idx3-ubyte"):
        print(f"no MNIST files in {data}; skipped")
        sys.exit(77)
    with tempfile.TemporaryDirectory() as tmp:
        cases = {"save_predict": save_predict, "resume_fewer": resume_fewer, "hidden": hidden,
                 "validation_json": validation_json,
                 "save_predict_convnet": lambda *args: save_predict(*args, model_kind="convnet")}
        cases[case](mnist, predict, data, tmp)


if __name__ == "__main__":
    main()
