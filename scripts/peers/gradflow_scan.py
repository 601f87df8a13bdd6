#!/usr/bin/env python3
"""gradflow --mode scan --peers: the same scans as lamina's, timed in one process.

A NumPy scan of a vanilla RNN and of an LSTM (a Python loop over the steps, one matmul
per input and recurrent projection, as the course notebooks write it), forward only, and
PyTorch's nn.RNN (tanh), nn.GRU and nn.LSTM, forward (under no_grad) and forward plus the
backward of sum(outputs), at every thread count from 1 to --max-threads, keeping each
one's best. Prints one JSON line of median milliseconds: <name>_fwd_ms, <name>_fwdbwd_ms
(numpy_rnn, numpy_lstm, torch_rnn, torch_gru, torch_lstm), torch_version, torch_threads.
"""
import argparse
import json
import statistics
import sys
import time


def median_ms(fn, reps):
    for _ in range(2):
        fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def numpy_scans(a, out):
    import numpy as np
    rng = np.random.default_rng(0)
    B, T, D, H = a.batch, a.length, a.embed, a.units
    x = rng.standard_normal((B, T, D), dtype=np.float32)
    wx = (rng.standard_normal((D, H)) * 0.1).astype(np.float32)
    wh = (rng.standard_normal((H, H)) * 0.1).astype(np.float32)
    b = np.zeros(H, np.float32)
    kx = (rng.standard_normal((D, 4 * H)) * 0.1).astype(np.float32)
    kh = (rng.standard_normal((H, 4 * H)) * 0.1).astype(np.float32)
    kb = np.zeros(4 * H, np.float32)

    def rnn():
        h = np.zeros((B, H), np.float32)
        hs = []
        for t in range(T):
            h = np.tanh(x[:, t] @ wx + h @ wh + b)
            hs.append(h)
        return np.stack(hs, 1)

    def sigmoid(z):
        return 1.0 / (1.0 + np.exp(-z))

    def lstm():
        h = np.zeros((B, H), np.float32)
        c = np.zeros((B, H), np.float32)
        hs = []
        for t in range(T):
            z = x[:, t] @ kx + h @ kh + kb
            i, f, g, o = sigmoid(z[:, :H]), sigmoid(z[:, H:2 * H]), np.tanh(z[:, 2 * H:3 * H]), sigmoid(z[:, 3 * H:])
            c = f * c + i * g
            h = o * np.tanh(c)
            hs.append(h)
        return np.stack(hs, 1)

    out["numpy_rnn_fwd_ms"] = median_ms(rnn, a.reps)
    out["numpy_lstm_fwd_ms"] = median_ms(lstm, a.reps)
    out["numpy_version"] = np.__version__


def torch_scans(a, out):
    import torch
    out["torch_version"] = torch.__version__
    x = torch.randn(a.batch, a.length, a.embed)
    mods = {"torch_rnn": torch.nn.RNN, "torch_gru": torch.nn.GRU, "torch_lstm": torch.nn.LSTM}
    best_threads, best_lstm = 1, float("inf")
    for threads in range(1, max(1, a.max_threads) + 1):
        torch.set_num_threads(threads)
        for name, cls in mods.items():
            m = cls(a.embed, a.units, batch_first=True)

            def fwd():
                with torch.no_grad():
                    m(x)

            def fwdbwd():
                m(x)[0].sum().backward()
                m.zero_grad()

            for kind, fn in (("fwd", fwd), ("fwdbwd", fwdbwd)):
                key = f"{name}_{kind}_ms"
                ms = median_ms(fn, a.reps)
                out[key] = min(out.get(key, float("inf")), ms)
                if key == "torch_lstm_fwd_ms" and ms < best_lstm:
                    best_threads, best_lstm = threads, ms
    out["torch_threads"] = best_threads


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for flag, default in (("--embed", 128), ("--length", 256), ("--units", 16), ("--batch", 1), ("--reps", 20),
                          ("--max-threads", 1)):
        p.add_argument(flag, type=int, default=default)
    a = p.parse_args()
    out = {}
    for what, fn, package in (("numpy", numpy_scans, "python3-numpy"), ("torch", torch_scans, "python3-torch")):
        try:
            fn(a, out)
        except ImportError:
            print(f"gradflow_scan.py: no {what} module: skipping its rows (apt-get install {package})",
                  file=sys.stderr)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
