"""PyTorch reference for `deno task bench --vs-pytorch`.

The bench's three models (bench/models.ts) with the same shapes, batch sizes, optimizers and
Keras-style losses, timed like the tfjs cells: a warm-up apart, then timed repeats that each
run at least 2 steps and stop after about --seconds; the median is reported. Training uses
pre-made random batches (inputs in [0, 1], random one-hot targets; the input itself for the
autoencoder). Runs on 2 threads. Prints one JSON object on stdout, progress on stderr.

Run with Debian's interpreter (package python3-torch): /usr/bin/python3 bench/reference.py
"""

import argparse
import ctypes
import glob
import json
import os
import platform
import re
import statistics
import sys
import time

import torch
from torch import nn

EPS = 1e-7  # Keras' epsilon: losses clip probabilities to [EPS, 1 - EPS], Adam uses it too
POOL = 8  # distinct pre-made batches, cycled
MIN_STEPS = 2


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def dense64_sigmoid():
    return nn.Sequential(
        nn.Flatten(), nn.Linear(784, 64), nn.Sigmoid(), nn.Linear(64, 10), nn.Softmax(dim=1)
    )


def cnn_sgd():
    # 28 -conv5-> 24 -pool3-> 8 -conv2-> 7 -pool2-> 3: 3*3*64 = 576 features
    return nn.Sequential(
        nn.Conv2d(1, 32, 5), nn.ReLU(), nn.MaxPool2d(3),
        nn.Conv2d(32, 64, 2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(576, 500), nn.ReLU(),
        nn.Linear(500, 100), nn.ReLU(),
        nn.Linear(100, 10), nn.Softmax(dim=1),
    )


def conv_autoencoder():
    # Keras "same" with stride 2 and kernel 3: padding 1, output_padding 1 (7 -> 14 -> 28)
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(3136, 100),
        nn.Linear(100, 3136), nn.Unflatten(1, (64, 7, 7)),
        nn.ConvTranspose2d(64, 32, 3, stride=2, padding=1, output_padding=1), nn.ReLU(),
        nn.ConvTranspose2d(32, 1, 3, stride=2, padding=1, output_padding=1), nn.Sigmoid(),
    )


def categorical_crossentropy(y, p):
    return -(y * p.clamp(EPS, 1 - EPS).log()).sum(dim=1).mean()


def categorical_accuracy(y, p):
    return (p.argmax(dim=1) == y.argmax(dim=1)).float().mean()


def binary_crossentropy(y, p):
    p = p.clamp(EPS, 1 - EPS)
    return -(y * p.log() + (1 - y) * (1 - p).log()).mean()


def binary_accuracy(y, p):
    return (y == (p > 0.5).float()).float().mean()


def classification_batches(batch, gen):
    xs = [torch.rand(batch, 1, 28, 28, generator=gen) for _ in range(POOL)]
    ys = [
        nn.functional.one_hot(torch.randint(0, 10, (batch,), generator=gen), 10).float()
        for _ in range(POOL)
    ]
    return xs, ys


def reconstruction_batches(batch, gen):
    xs = [torch.rand(batch, 1, 28, 28, generator=gen) for _ in range(POOL)]
    return xs, xs


MODELS = {
    "keras-dense": dict(
        build=dense64_sigmoid,
        optimizer=lambda ps: torch.optim.Adam(ps, lr=0.001, eps=EPS),
        loss=categorical_crossentropy,
        acc=categorical_accuracy,
        batch=32,
        batches=classification_batches,
    ),
    "cnn-sgd": dict(
        build=cnn_sgd,
        optimizer=lambda ps: torch.optim.SGD(ps, lr=0.01, momentum=0.9),
        loss=categorical_crossentropy,
        acc=categorical_accuracy,
        batch=32,
        batches=classification_batches,
    ),
    "conv-autoencoder": dict(
        build=conv_autoencoder,
        optimizer=lambda ps: torch.optim.Adam(ps, lr=0.001, eps=EPS),
        loss=binary_crossentropy,
        acc=binary_accuracy,
        batch=128,
        batches=reconstruction_batches,
    ),
}


def measure(once, batch, args, say):
    w0 = time.perf_counter()
    for _ in range(args.warmup_steps):
        once()
    warmup = time.perf_counter() - w0
    say(f"warm-up {warmup:.2f}s")
    repeats = []
    for r in range(args.repeats):
        start = time.perf_counter()
        steps = 0
        while True:
            once()
            steps += 1
            elapsed = time.perf_counter() - start
            if elapsed >= args.seconds and steps >= MIN_STEPS:
                break
        rep = dict(
            steps=steps,
            samples=steps * batch,
            seconds=elapsed,
            samplesPerSecond=steps * batch / elapsed,
        )
        say(
            f"repeat {r + 1}/{args.repeats}: {rep['samplesPerSecond']:.1f} samples/s "
            f"({steps} steps, {elapsed:.2f}s)"
        )
        repeats.append(rep)
    return dict(
        status="ok",
        warmupSeconds=warmup,
        warmupSteps=args.warmup_steps,
        repeats=repeats,
        samplesPerSecond=statistics.median(r["samplesPerSecond"] for r in repeats),
    )


def guarded(what, say, f):
    try:
        return f()
    except Exception as e:  # a failure is reported in the cell, the bench goes on
        error = f"{type(e).__name__}: {e}".splitlines()[0][:300]
        say(f"{what} failed: {error}")
        return dict(status="error", error=error)


def bench_model(name, args):
    spec = MODELS[name]
    batch = spec["batch"]
    gen = torch.Generator().manual_seed(args.seed * 1000)
    xs, ys = spec["batches"](batch, gen)

    def say(what):
        return lambda msg: log(f"[pytorch] {name} {what}: {msg}")

    def train():
        torch.manual_seed(args.seed)
        model = spec["build"]()
        model.train()
        opt = spec["optimizer"](model.parameters())
        # Running sums kept as tensors, like the tfjs step (no per-step read-back).
        sums = torch.zeros(2)
        i = [0]

        def once():
            x, y = xs[i[0] % POOL], ys[i[0] % POOL]
            i[0] += 1
            opt.zero_grad(set_to_none=True)
            p = model(x)
            loss = spec["loss"](y, p)
            loss.backward()
            opt.step()
            with torch.no_grad():
                sums[0] += loss.detach() * batch
                sums[1] += spec["acc"](y, p.detach()) * batch

        return measure(once, batch, args, say("train"))

    def inference():
        torch.manual_seed(args.seed)
        model = spec["build"]()
        model.eval()
        i = [0]

        def once():
            with torch.inference_mode():
                model(xs[i[0] % POOL])
            i[0] += 1

        return measure(once, batch, args, say("inference"))

    params = sum(p.numel() for p in spec["build"]().parameters())
    return dict(
        model=name,
        batchSize=batch,
        params=params,
        train=guarded("train", say("train"), train),
        inference=guarded("inference", say("inference"), inference),
    )


def blas_info():
    """Which BLAS torch uses: build info, what is mapped into this process, the alternative."""
    config = torch.__config__.show()
    m = re.search(r"BLAS_INFO=([^,\s]+)", config)
    build = m.group(1) if m else None
    # Make sure the BLAS is loaded (a dense matmul goes through it), then read our own maps.
    torch.mm(torch.rand(64, 64), torch.rand(64, 64))
    pattern = re.compile(r"(blas|lapack|mkl|dnnl|gomp|omp)[^/]*\.so", re.I)
    loaded = []
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                path = line.split()[-1] if "/" in line else ""
                if pattern.search(os.path.basename(path)) and path not in loaded:
                    loaded.append(path)
    except OSError:
        pass
    links = sorted(glob.glob("/etc/alternatives/libblas.so*"))
    alternative = os.path.realpath(links[0]) if links else None
    summary = f"BLAS_INFO={build}"
    openblas = next((p for p in loaded if "openblas" in p.lower()), None)
    if openblas is None and alternative and "openblas" in alternative:
        openblas = alternative
    if openblas:
        try:
            lib = ctypes.CDLL(openblas)
            lib.openblas_get_config.restype = ctypes.c_char_p
            summary += f"; OpenBLAS: {lib.openblas_get_config().decode()}"
            summary += f" ({lib.openblas_get_num_threads()} threads)"
        except (OSError, AttributeError):
            summary += f"; OpenBLAS at {openblas}"
    elif alternative:
        summary += f"; libblas.so.3 -> {alternative}"
    if alternative:
        summary += f"; /etc/alternatives libblas -> {alternative}"
    m = re.search(r"MKL-DNN v[\d.]+", config)
    if m:
        summary += f"; convolutions: oneDNN ({m.group(0)})"
    return dict(buildInfo=build, loadedLibraries=loaded, alternative=alternative, summary=summary)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--warmup-steps", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    names = [m for m in args.models.split(",") if m]
    unknown = [m for m in names if m not in MODELS]
    if unknown:
        ap.error(f"unknown models: {', '.join(unknown)}")

    torch.set_num_threads(2)
    blas = blas_info()
    log(f"[pytorch] torch {torch.__version__}, {torch.get_num_threads()} threads, {blas['summary']}")
    out = dict(
        status="ok",
        python=platform.python_version(),
        torch=torch.__version__,
        threads=torch.get_num_threads(),
        blas=blas,
        models=[bench_model(name, args) for name in names],
    )
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
