"""PyTorch reference for `deno task bench --vs-pytorch`.

The bench's three models (bench/models.ts) with the same shapes, batch sizes, optimizers and
Keras-style losses, timed like the tfjs cells: a warm-up apart, then timed repeats that each
run at least 2 steps and stop after about --seconds. Training uses pre-made random batches
(inputs in [0, 1], random one-hot targets; the input itself for the autoencoder).

The bench drives it so that its repeats take turns with tfjs': one JSON request a line on
stdin, one JSON reply a line on stdout ({"error": ...} when a request fails):
  {"op": "info"}                                    Python, torch, threads, BLAS
  {"op": "prepare", "model": M, "what": "train" | "inference", "seed": S}
                                                    -> {"id", "params", "batchSize"}
  {"op": "warmup", "id": I}                         -> {"steps"}
  {"op": "repeat", "id": I}                         -> a repeat, with "start" and each step's
                                                       end ("marks": [time, steps]) on
                                                       time.monotonic(), a clock all processes share
Runs on --threads threads (2 beside a tfjs cell, 1 for each job of the whole-machine row).

Run with Debian's interpreter (package python3-torch): /usr/bin/python3 bench/reference.py
"""

import argparse
import ctypes
import glob
import json
import os
import platform
import re
import sys
import time

import torch
from torch import nn

EPS = 1e-7  # Keras' epsilon: losses clip probabilities to [EPS, 1 - EPS], Adam uses it too
POOL = 8  # distinct pre-made batches, cycled
MIN_STEPS = 2


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


class Prepared:
    """One model set up for training or inference, its batches made: warmed up and timed on request."""

    def __init__(self, name, what, seed):
        spec = MODELS[name]
        self.batch = batch = spec["batch"]
        gen = torch.Generator().manual_seed(seed * 1000)
        xs, ys = spec["batches"](batch, gen)
        torch.manual_seed(seed)
        model = spec["build"]()
        self.params = sum(p.numel() for p in model.parameters())
        i = [0]
        if what == "train":
            model.train()
            opt = spec["optimizer"](model.parameters())
            # Running sums kept as tensors, like the tfjs step (no per-step read-back).
            sums = torch.zeros(2)

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

        elif what == "inference":
            model.eval()

            def once():
                with torch.inference_mode():
                    model(xs[i[0] % POOL])
                i[0] += 1

        else:
            raise ValueError(f"prepare: {what!r} is neither train nor inference")
        self.once = once

    def warmup(self, args):
        """Up to --warmup-steps untimed steps; one when it alone takes over --seconds (as tfjs)."""
        steps, start = 0, time.monotonic()
        while steps < args.warmup_steps:
            self.once()
            steps += 1
            if time.monotonic() - start > args.seconds:
                break
        return dict(steps=steps)

    def repeat(self, args):
        """Steps until --seconds have passed (and at least 2), each one's end time marked."""
        start = time.monotonic()
        steps, marks = 0, []
        while True:
            self.once()
            steps += 1
            now = time.monotonic()
            marks.append([now, steps])
            if now - start >= args.seconds and steps >= MIN_STEPS:
                break
        elapsed = now - start
        return dict(
            steps=steps,
            samples=steps * self.batch,
            seconds=elapsed,
            samplesPerSecond=steps * self.batch / elapsed,
            start=start,
            marks=marks,
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
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--warmup-steps", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    prepared = []

    def handle(req):
        op = req.get("op")
        if op == "info":
            return dict(
                python=platform.python_version(),
                torch=torch.__version__,
                threads=torch.get_num_threads(),
                blas=blas_info(),
            )
        if op == "prepare":
            if req["model"] not in MODELS:
                raise ValueError(f"unknown model {req['model']!r}")
            p = Prepared(req["model"], req["what"], req["seed"])
            prepared.append(p)
            return dict(id=len(prepared) - 1, params=p.params, batchSize=p.batch)
        if op == "warmup":
            return prepared[req["id"]].warmup(args)
        if op == "repeat":
            return prepared[req["id"]].repeat(args)
        raise ValueError(f"unknown op {op!r}")

    for line in sys.stdin:
        try:
            reply = handle(json.loads(line))
        except Exception as e:  # a failure is the request's reply; the bench goes on
            reply = dict(error=f"{type(e).__name__}: {e}".splitlines()[0][:300])
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
