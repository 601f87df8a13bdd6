#!/usr/bin/env python3
"""Interop checks run by tests/reference/run.sh (ctest label "reference").

--c-written DIR   numpy reads the .npz files reference_check wrote from C: the
                  converted sonnets weights come back bit-identical and in model order,
                  and the weights after three C Adam steps match PyTorch's.
--example BINARY  converter round trips (PyTorch <-> .npz <-> Keras, for every layer
                  kind, through the module API and the command line; Keras is
                  exercised with Keras-shaped weight lists and duck-typed layers, since
                  TensorFlow is not needed), Keras's own LSTM/GRU equations in numpy
                  against PyTorch on converted weights, and the worked example of
                  docs/interop.md run end to end with BINARY as its C program.
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile
import zipfile

import numpy as np
import torch
import torch.nn as nn

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
import convert_weights as cw  # noqa: E402

CONVERTER = os.path.join(ROOT, "scripts", "convert_weights.py")
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


# ---- numpy reads what C wrote ----

def check_c_written(d):
    with zipfile.ZipFile(os.path.join(d, "sonnets.from_c.npz")) as z:
        check(z.testzip() is None, "zipfile: every CRC of the C-written archive is right")
        check(all(i.compress_type == zipfile.ZIP_STORED for i in z.infolist()), "C writes stored members")
    ours = np.load(os.path.join(d, "sonnets.from_c.npz"), allow_pickle=False)
    src = np.load(os.path.join(d, "sonnets.npz"))
    check(ours.files == src.files, f"numpy lists the C-written arrays in model order: {ours.files}")
    check(all(ours[k].dtype == np.float32 and np.array_equal(ours[k], src[k]) for k in src.files),
          "numpy reads the C-written weights bit-identical to the converted PyTorch weights")
    adam = np.load(os.path.join(d, "sonnets.adam_from_c.npz"))
    ref = np.load(os.path.join(d, "sonnets.data.npz"))
    worst = max(float(np.max(np.abs(adam[k] - ref["adam:" + k]))) for k in adam.files)
    check(worst < 1e-5, f"numpy: C's weights after 3 Adam steps match torch.optim.Adam's (max |diff| {worst:.2e})")


# ---- PyTorch round trips ----

def seeded(module, scale=0.5):
    with torch.no_grad():
        for p in module.parameters():
            p.uniform_(-scale, scale)
    return module


class Net(nn.Module):
    """Every supported kind, including the awkward ones."""

    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(13, 5)
        self.rnn = nn.RNN(5, 4, batch_first=True)
        self.lstm = nn.LSTM(4, 6, num_layers=2, batch_first=True)
        self.gru = nn.GRU(6, 3, batch_first=True, bidirectional=True)
        self.bilstm = nn.LSTM(6, 2, batch_first=True, bidirectional=True, bias=False)
        self.proj = nn.Linear(6, 7, bias=False)
        self.fc = nn.Linear(7, 3)

    def forward(self, ids):
        x, _ = self.rnn(self.embed(ids))
        x, _ = self.lstm(x)
        g, _ = self.gru(x)
        b, _ = self.bilstm(x)
        return self.fc(self.proj(g)) + b.sum(-1, keepdim=True)


def torch_round_trips(tmp):
    torch.manual_seed(3)
    net = seeded(Net())
    ids = torch.randint(0, 13, (2, 9))
    with torch.no_grad():
        want = net(ids)
    arrays = cw.from_torch_module(net)
    expected = ["embedding/embeddings", "simple_rnn/kernel", "lstm/kernel", "lstm_1/bias",
                "forward_gru/kernel", "backward_gru/bias", "forward_lstm_2/recurrent_kernel",
                "dense/kernel", "dense_1/kernel", "dense_1/bias"]
    check(all(k in arrays for k in expected) and "dense/bias" not in arrays,
          "from_torch_module names layers as Keras would: " + ", ".join(arrays))
    check(arrays["lstm/kernel"].shape == (4, 24) and arrays["lstm/recurrent_kernel"].shape == (6, 24)
          and arrays["lstm/bias"].shape == (24,), "LSTM layout: kernel (D, 4H), recurrent (H, 4H), bias (4H)")
    check(arrays["forward_gru/bias"].shape == (2, 9), "GRU bias is Keras's reset_after (2, 3H)")
    check(np.array_equal(arrays["lstm/bias"], (net.lstm.bias_ih_l0 + net.lstm.bias_hh_l0).detach().numpy()),
          "LSTM: the two PyTorch biases are summed")
    check(np.array_equal(arrays["lstm/kernel"][:, 6:12], net.lstm.weight_ih_l0.detach().numpy()[6:12].T),
          "LSTM: gate blocks keep their order (PyTorch i, f, g, o = Keras i, f, c, o), transposed")
    w = net.gru.weight_ih_l0.detach().numpy()
    check(np.array_equal(arrays["forward_gru/kernel"][:, :3], w[3:6].T)
          and np.array_equal(arrays["forward_gru/kernel"][:, 3:6], w[:3].T),
          "GRU: PyTorch's r, z, n blocks become Keras's z, r, h")
    check(np.all(arrays["forward_lstm_2/bias"] == 0), "LSTM with bias=False: zero bias")

    path = os.path.join(tmp, "net.npz")
    cw.save_npz(path, arrays)
    back = cw.to_torch(cw.load_npz(path), Net().state_dict(), {"proj": "Dense"})
    fresh = cw.to_torch_module(Net(), cw.load_npz(path))
    with torch.no_grad():
        got = fresh(ids)
    err = float((got - want).abs().max())
    check(err < 1e-5, f"PyTorch -> npz -> PyTorch computes the same outputs (max |diff| {err:.1e})")
    sd = net.state_dict()
    same = [k for k in sd if "bias_" not in k or k.startswith("gru.")]
    check(all(torch.equal(sd[k], back[k]) for k in same),
          "round trip is bit-identical for every tensor but the summed LSTM/RNN biases")
    check(torch.equal(back["lstm.bias_ih_l1"], sd["lstm.bias_ih_l1"] + sd["lstm.bias_hh_l1"])
          and not back["lstm.bias_hh_l1"].any(), "LSTM biases come back as bias_ih = sum, bias_hh = 0")
    again = cw.from_torch(back, {"embed": "Embedding", "proj": "Dense"})
    check(again.keys() == arrays.keys() and all(np.array_equal(again[k], arrays[k]) for k in arrays),
          "npz -> PyTorch -> npz is bit-identical")

    # What the state_dict alone cannot tell is asked for, and mismatches are named.
    try:
        cw.from_torch(net.state_dict())
        check(False, "a bias-free Linear needs a hint")
    except cw.ConversionError as e:
        check("proj" in str(e) and "--layer proj=" in str(e), f"ambiguous module named: {e}")
    bad = dict(arrays)
    bad["lstm/kernel"] = np.zeros((4, 20), np.float32)
    del bad["dense_1/bias"]
    bad["extra/kernel"] = np.zeros(2, np.float32)
    try:
        cw.to_torch_module(Net(), bad)
        check(False, "to_torch refuses mismatched weights")
    except cw.ConversionError as e:
        msg = str(e)
        check("'lstm/kernel' has shape (4, 20)" in msg and "'dense_1/bias' is missing" in msg
              and "'extra/kernel' is not used" in msg, f"to_torch names every mismatch: {msg}")


def torch_cli(tmp, py):
    torch.manual_seed(4)
    net = seeded(Net())
    sd_path, npz, out = (os.path.join(tmp, n) for n in ("cli.pt", "cli.npz", "cli_back.pt"))
    torch.save(net.state_dict(), sd_path)
    run = lambda *a: subprocess.run([py, CONVERTER, *a], capture_output=True, text=True)
    r = run("torch2npz", sd_path, npz)
    check(r.returncode == 1 and "--layer proj=" in r.stderr, "CLI: an ambiguous module is an error naming it")
    r = run("torch2npz", sd_path, npz, "--layer", "proj=Dense", "--layer", "lstm=LSTM:enc,enc_top")
    check(r.returncode == 0, "CLI torch2npz with --layer hints " + r.stderr.strip())
    names = np.load(npz).files
    check("enc/kernel" in names and "enc_top/bias" in names, "CLI: --layer names stacked layers")
    r = run("npz2torch", npz, sd_path, out, "--layer", "proj=Dense", "--layer", "lstm=LSTM:enc,enc_top")
    check(r.returncode == 0, "CLI npz2torch " + r.stderr.strip())
    back = torch.load(out)
    ids = torch.randint(0, 13, (2, 5))
    fresh = Net()
    fresh.load_state_dict(back)
    with torch.no_grad():
        err = float((fresh(ids) - net(ids)).abs().max())
    check(err < 1e-5, f"CLI: PyTorch -> npz -> PyTorch same outputs (max |diff| {err:.1e})")
    r = run("show", npz)
    check(r.returncode == 0 and "enc/recurrent_kernel" in r.stdout, "CLI show lists names and shapes")
    renamed = os.path.join(tmp, "renamed.npz")
    r = run("torch2npz", sd_path, renamed, "--layer", "proj=Dense", "--rename", "dense_1=head")
    names = np.load(renamed).files
    check(r.returncode == 0 and "head/bias" in names and "dense_1/bias" not in names, "CLI --rename renames a layer")


# ---- Keras, without TensorFlow ----

class FakeLayer:
    """Just what keras_names and to_keras_model read from a Keras layer."""

    def __init__(self, cls, name, weights, **attrs):
        self.__class__ = type(cls, (FakeLayer,), {})
        self.name, self.weights_ = name, list(weights)
        self.__dict__.update(attrs)

    def get_weights(self):
        return list(self.weights_)


class FakeModel:
    def __init__(self, layers):
        self.layers = layers

    def _all(self):
        out = []

        def visit(layer):
            for sub in [getattr(layer, "forward_layer", None), getattr(layer, "backward_layer", None),
                        getattr(layer, "layer", None)]:
                if sub is not None:
                    visit(sub)
            if not any(hasattr(layer, a) for a in ("forward_layer", "layer")):
                out.append(layer)
        for layer in self.layers:
            visit(layer)
        return out

    def get_weights(self):
        return [w for layer in self._all() for w in layer.get_weights()]

    def set_weights(self, ws):
        it = iter(ws)
        for layer in self._all():
            layer.weights_ = [next(it) for _ in layer.weights_]


def keras_model(rng):
    r = lambda *s: rng.uniform(-0.5, 0.5, s).astype(np.float32)
    D, H = 8, 5
    fwd = FakeLayer("GRU", "forward_gru", [r(D, 3 * H), r(H, 3 * H), r(2, 3 * H)], reset_after=True)
    bwd = FakeLayer("GRU", "backward_gru", [r(D, 3 * H), r(H, 3 * H), r(2, 3 * H)], reset_after=True)
    return FakeModel([
        FakeLayer("InputLayer", "input", []),
        FakeLayer("Embedding", "embedding", [r(27, D)]),
        FakeLayer("LSTM", "lstm", [r(D, 4 * 4), r(4, 16), r(16)]),
        FakeLayer("Dropout", "dropout", []),
        FakeLayer("Bidirectional", "bidirectional", fwd.weights_ + bwd.weights_, forward_layer=fwd,
                  backward_layer=bwd),
        FakeLayer("TimeDistributed", "time_distributed", [], layer=FakeLayer("Dense", "dense", [r(10, 27), r(27)])),
        FakeLayer("Dense", "dense_1", [r(27, 3)], use_bias=False),
    ])


def keras_round_trips(tmp, py):
    rng = np.random.default_rng(5)
    model = keras_model(rng)
    names = cw.keras_names(model)
    spec = ("Embedding:embedding, LSTM:lstm, Bidirectional(GRU):gru, TimeDistributed(Dense):dense, "
            "Dense/nobias:dense_1")
    check(names == cw.keras_names_from_spec(spec), "Keras names from a model equal those from a layer spec")
    arrays = cw.from_keras_model(model)
    check(list(arrays) == names and all(np.array_equal(a, w) for a, w in zip(arrays.values(), model.get_weights())),
          "Keras get_weights() -> npz keeps order and values: " + ", ".join(names))
    path = os.path.join(tmp, "keras.npz")
    cw.save_npz(path, arrays)
    other = keras_model(np.random.default_rng(6))
    cw.to_keras_model(other, cw.load_npz(path))
    check(all(np.array_equal(a, b) for a, b in zip(other.get_weights(), model.get_weights())),
          "Keras -> npz -> Keras set_weights() is bit-identical")
    try:
        cw.keras_names(FakeModel([FakeLayer("GRU", "g", [np.zeros((2, 6)), np.zeros((2, 6)), np.zeros(6)],
                                            reset_after=False)]))
        check(False, "reset_after=False GRU refused")
    except cw.ConversionError as e:
        check("reset_after=False" in str(e), f"a reset_after=False GRU is refused: {e}")

    # The command line, with a get_weights() list saved by numpy.savez(path, *weights).
    lst, out, back = (os.path.join(tmp, n) for n in ("list.npz", "from_list.npz", "back_list.npz"))
    np.savez(lst, *model.get_weights())
    r = subprocess.run([py, CONVERTER, "keras2npz", lst, out, "--keras-layers", spec], capture_output=True, text=True)
    check(r.returncode == 0 and list(np.load(out).files) == names, "CLI keras2npz from a weight list " + r.stderr)
    r = subprocess.run([py, CONVERTER, "npz2keras", out, back, "--keras-layers", spec], capture_output=True, text=True)
    with np.load(back) as z:
        ws = [z[f"arr_{i}"] for i in range(len(z.files))]
    check(r.returncode == 0 and all(np.array_equal(a, b) for a, b in zip(ws, model.get_weights())),
          "CLI npz2keras writes the set_weights() list back bit-identical")


# ---- Keras's equations against PyTorch, on converted weights ----

def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def keras_lstm(x, k, r, b):
    """keras.layers.LSTM's step: z = x k + h r + b; i, f, c, o = split(z, 4)."""
    h = c = np.zeros((x.shape[0], r.shape[0]))
    seq = []
    for t in range(x.shape[1]):
        zi, zf, zc, zo = np.split(x[:, t] @ k + h @ r + b, 4, axis=1)
        c = sigmoid(zf) * c + sigmoid(zi) * np.tanh(zc)
        h = sigmoid(zo) * np.tanh(c)
        seq.append(h)
    return np.stack(seq, 1)


def keras_gru(x, k, r, b):
    """keras.layers.GRU(reset_after=True): x_z, x_r, x_h = split(x k + b[0]);
    r_z, r_r, r_h = split(h r + b[1]); hh = tanh(x_h + r * r_h); h = z h + (1 - z) hh."""
    h = np.zeros((x.shape[0], r.shape[0]))
    seq = []
    for t in range(x.shape[1]):
        xz, xr, xh = np.split(x[:, t] @ k + b[0], 3, axis=1)
        rz, rr, rh = np.split(h @ r + b[1], 3, axis=1)
        z, rg = sigmoid(xz + rz), sigmoid(xr + rr)
        h = z * h + (1 - z) * np.tanh(xh + rg * rh)
        seq.append(h)
    return np.stack(seq, 1)


def keras_equations():
    torch.manual_seed(7)
    x = torch.rand(3, 6, 4) * 2 - 1
    for kind, mod, fn in (("LSTM", nn.LSTM, keras_lstm), ("GRU", nn.GRU, keras_gru)):
        m = seeded(mod(4, 5, batch_first=True))
        a = cw.from_torch(m.state_dict())
        p = kind.lower()
        with torch.no_grad():
            want = m(x)[0].numpy()
        got = fn(x.numpy().astype(np.float64), a[p + "/kernel"], a[p + "/recurrent_kernel"], a[p + "/bias"])
        err = float(np.max(np.abs(got - want)))
        check(err < 1e-5, f"Keras's {kind} equations on converted weights equal PyTorch's {kind} (max |diff| {err:.1e})")


# ---- the worked example of docs/interop.md ----

def worked_example(binary, py):
    text = open(os.path.join(ROOT, "docs", "interop.md")).read()
    blocks = dict(re.findall(r"<!-- example: (\S+) -->\n```\w*\n(.*?)```\n<!-- end: \1 -->", text, re.S))
    check({"make_model.py", "check_back.py", "pipeline.sh", "interop_example.c"} <= set(blocks),
          "docs/interop.md has the worked example's blocks: " + ", ".join(blocks))
    with tempfile.TemporaryDirectory() as d:
        for name, body in blocks.items():
            with open(os.path.join(d, name), "w") as f:
                f.write(body)
        os.symlink(os.path.join(ROOT, "scripts"), os.path.join(d, "scripts"))
        os.symlink(os.path.abspath(binary), os.path.join(d, "interop_example"))
        bindir = os.path.join(d, "bin")
        os.mkdir(bindir)
        os.symlink(py, os.path.join(bindir, "python3"))
        env = dict(os.environ, PATH=bindir + os.pathsep + os.environ.get("PATH", ""))
        r = subprocess.run(["bash", "-euo", "pipefail", "pipeline.sh"], cwd=d, env=env, capture_output=True, text=True)
        print(r.stdout, end="")
        check(r.returncode == 0, "the worked example runs: " + r.stderr.strip()[-500:])
        rows = [[float(v) for v in line.split()] for line in r.stdout.splitlines()
                if re.fullmatch(r"(\d+\.\d+ ){4}\d+\.\d+", line.strip())]
        check(len(rows) == 3, f"the example prints PyTorch's, lamina's and PyTorch-again's probabilities ({len(rows)})")
        if len(rows) == 3:
            err = float(np.max(np.abs(np.array(rows) - np.array(rows[0]))))
            check(err <= 2e-6, f"the three agree to the printed 6 decimals (max |diff| {err:.1e})")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--c-written", metavar="DIR")
    ap.add_argument("--example", metavar="BINARY")
    a = ap.parse_args()
    py = sys.executable  # the python run.sh found torch and numpy in
    if a.c_written:
        check_c_written(a.c_written)
    if a.example:
        with tempfile.TemporaryDirectory() as tmp:
            torch_round_trips(tmp)
            torch_cli(tmp, py)
            keras_round_trips(tmp, py)
        keras_equations()
        worked_example(a.example, py)
    print(f"{len(failures)} failed" if failures else "all interop checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
