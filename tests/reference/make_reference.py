#!/usr/bin/env python3
"""PyTorch reference data for tests/reference/reference_check.c.

For each case, random float32 PyTorch modules are converted to lamina's .npz with
scripts/convert_weights.py (<case>.npz), and then evaluated in float64 by PyTorch's
own layers (nn.LSTM, nn.GRU, nn.RNN, F.linear, F.embedding) on weights rebuilt from
the lamina-layout arrays, so the gradients come out in lamina's layout directly.
<case>.data.npz holds the inputs ("x", "h0", ...), a random upstream gradient per
output ("g:out", ...), the outputs and final states ("out", "h", "c", ...) and the
gradient of sum(output * upstream) for every parameter and input ("grad:lstm/kernel",
"grad:x", ...). The sonnets case also holds its loss and three Adam steps. The masked
cases run post-padded batches (random lengths, 1 and T among them) through
pack_padded_sequence: "mask" holds the (B, T) mask, the outputs are zero at padding
(pad_packed_sequence) and so is the upstream gradient of "out", and the final states
are those at each sequence's last real step.

Each case also proves the converter: the module run with its own PyTorch parameters
must give what the rebuilt weights give (to 1e-6: float64 maths, but the summed LSTM
and RNN biases are rounded to float32 once, as in the file).
"""

import argparse
import os
import sys
from collections import OrderedDict

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
import convert_weights as cw  # noqa: E402

B, T, D, H = 3, 7, 5, 6


def f32(*shape, scale=1.0):
    return ((torch.rand(*shape) * 2 - 1) * scale).float()


def randomize(module, scale=0.5):
    """Replaces PyTorch's init with U(-scale, scale) everywhere (biases too, so that
    both LSTM biases and both GRU biases carry information)."""
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(f32(*p.shape, scale=scale))
    return module


def gru_perm(w):
    """Keras's z, r, h blocks <-> PyTorch's r, z, n (its own inverse)."""
    z, r, h = w.chunk(3, 0)
    return torch.cat([r, z, h], 0)


def rnn_weights(rnn, kind, names, leaves):
    """PyTorch flat weights of `rnn` rebuilt from lamina-layout leaves, differentiably."""
    out = {}
    dirs = [("", "forward_"), ("_reverse", "backward_")] if rnn.bidirectional else [("", "")]
    for layer, name in enumerate(names):
        for sfx, half in dirs:
            k, r, b = (leaves[f"{half}{name}/{p}"] for p in ("kernel", "recurrent_kernel", "bias"))
            if kind == "GRU":
                w_ih, w_hh, b_ih, b_hh = gru_perm(k.t()), gru_perm(r.t()), gru_perm(b[0]), gru_perm(b[1])
            else:  # LSTM gates i, f, g, o are Keras's i, f, c, o; one summed bias
                w_ih, w_hh, b_ih, b_hh = k.t(), r.t(), b, torch.zeros_like(b)
            out.update({f"weight_ih_l{layer}{sfx}": w_ih, f"weight_hh_l{layer}{sfx}": w_hh,
                        f"bias_ih_l{layer}{sfx}": b_ih, f"bias_hh_l{layer}{sfx}": b_hh})
    return out


def run_rnn(rnn, weights, x, hx, lens=None):
    """Runs a float64 copy of rnn with the given flat weights (None: its own); with
    lens, on x packed to those lengths, the output padded back to x's length."""
    m = type(rnn)(rnn.input_size, rnn.hidden_size, num_layers=rnn.num_layers, batch_first=True,
                  bidirectional=rnn.bidirectional).double()
    m.load_state_dict({k: v.double() for k, v in rnn.state_dict().items()})
    if weights is not None:
        m._flat_weights = [weights[n] for n in m._flat_weights_names]
    inp = x if lens is None else pack_padded_sequence(x, lens, batch_first=True, enforce_sorted=False)
    seq, state = m(inp, hx) if hx is not None else m(inp)
    if lens is not None:
        seq, _ = pad_packed_sequence(seq, batch_first=True, total_length=x.shape[1])
    return seq, state


class Case:
    def __init__(self, name, module):
        self.name, self.module = name, module
        self.arrays = cw.from_torch_module(module)  # lamina layout, float32
        self.leaves = OrderedDict((k, torch.tensor(v, dtype=torch.float64, requires_grad=True))
                                  for k, v in self.arrays.items())
        self.data = OrderedDict()
        self.inputs = OrderedDict()

    def input(self, name, value, grad=True):
        self.data[name] = value.numpy()
        t = value.double() if value.is_floating_point() else value.long()
        if grad and value.is_floating_point():
            t.requires_grad_(True)
            self.inputs[name] = t
        return t

    def finish(self, outputs, own_outputs, out_dir, mask=None):
        """Checks the converter, then records outputs and the gradients of
        sum(output * upstream) over all outputs (with a (B, T) mask, the upstream of
        "out" is zero at padded steps)."""
        for k in outputs:
            diff = (outputs[k] - own_outputs[k]).abs().max().item()
            assert diff < 1e-6, f"{self.name}: converted weights change '{k}' by {diff}"
        loss = 0
        for k, y in outputs.items():
            g = f32(*y.shape)
            if mask is not None and k == "out" and y.dim() == 3:
                g = g * mask[:, :, None].float()
            self.data["g:" + k] = g.numpy()
            loss = loss + (y * g.double()).sum()
            self.data[k] = y.detach().float().numpy()
        loss.backward()
        self.save_grads(out_dir)

    def save_grads(self, out_dir):
        for k, t in list(self.leaves.items()) + list(self.inputs.items()):
            self.data["grad:" + k] = t.grad.float().numpy()
        cw.save_npz(os.path.join(out_dir, self.name + ".npz"), self.arrays)
        np.savez(os.path.join(out_dir, self.name + ".data.npz"),
                 **{k: np.ascontiguousarray(v) for k, v in self.data.items()})


class Holder(nn.Module):
    """A module whose submodule names become the state_dict prefixes."""

    def __init__(self, **mods):
        super().__init__()
        for k, v in mods.items():
            setattr(self, k, v)


def dense_case(out_dir):
    c = Case("dense", Holder(fc=randomize(nn.Linear(D, 7))))
    x = c.input("x", f32(B, 4, D))
    lin = c.module.fc.double()
    y = torch.tanh(F.linear(x, c.leaves["dense/kernel"].t(), c.leaves["dense/bias"]))
    c.finish({"out": y}, {"out": torch.tanh(lin(x))}, out_dir)


def embedding_case(out_dir):
    c = Case("embedding", Holder(emb=randomize(nn.Embedding(11, 4))))
    ids = torch.randint(0, 11, (B, T), dtype=torch.int32)
    ids[0, :3] = 4  # repeated ids: their gradients must add up
    i = c.input("x", ids)
    y = F.embedding(i, c.leaves["embedding/embeddings"])
    c.finish({"out": y}, {"out": c.module.emb.double()(i)}, out_dir)


def rnn_case(out_dir, name, rnn, kind, with_c):
    c = Case(name, Holder(rnn=randomize(rnn)))
    x = c.input("x", f32(B, T, rnn.input_size))
    layers, names = rnn.num_layers, cw.torch_layers(c.module.state_dict())[0]["names"]
    h0 = [c.input(f"h0_{k}" if layers > 1 else "h0", f32(B, H)) for k in range(layers)]
    c0 = [c.input(f"c0_{k}" if layers > 1 else "c0", f32(B, H)) for k in range(layers)] if with_c else None
    hx = torch.stack(h0) if not with_c else (torch.stack(h0), torch.stack(c0))
    mine = run_rnn(rnn, rnn_weights(rnn, kind, names, c.leaves), x, hx)
    own = run_rnn(rnn, None, x, hx)

    def named(res):
        seq, state = res
        hs, cs = (state if with_c else (state, None))
        out = OrderedDict(out=seq)
        for k in range(layers):
            sfx = f"_{k}" if layers > 1 else ""
            out["h" + sfx] = hs[k]
            if with_c:
                out["c" + sfx] = cs[k]
        return out

    c.finish(named(mine), named(own), out_dir)


def bidirectional_case(out_dir, name, return_sequences):
    rnn = randomize(nn.LSTM(D, H, batch_first=True, bidirectional=True))
    c = Case(name, Holder(rnn=rnn))
    x = c.input("x", f32(B, T, D))

    def out(res):
        seq, (h, _) = res
        return {"out": seq if return_sequences else torch.cat([h[0], h[1]], dim=1)}

    c.finish(out(run_rnn(rnn, rnn_weights(rnn, "LSTM", ["lstm"], c.leaves), x, None)),
             out(run_rnn(rnn, None, x, None)), out_dir)


def masked_lengths():
    """B post-padding lengths in 1..T with 1 and T among them."""
    lens = torch.randint(1, T + 1, (B,))
    lens[0], lens[1] = 1, T
    return lens


def masked_rnn_case(out_dir, name, rnn, kind, with_c):
    """One RNN from given initial states on a packed batch: outputs (zero at padding),
    final states at each sequence's last real step, all gradients."""
    c = Case(name, Holder(rnn=randomize(rnn)))
    x = c.input("x", f32(B, T, rnn.input_size))
    lens = masked_lengths()
    mask = torch.arange(T)[None, :] < lens[:, None]
    c.data["mask"] = mask.float().numpy()
    names = cw.torch_layers(c.module.state_dict())[0]["names"]
    h0 = c.input("h0", f32(B, H))
    c0 = c.input("c0", f32(B, H)) if with_c else None
    hx = (h0[None], c0[None]) if with_c else h0[None]

    def named(res):
        seq, state = res
        out = OrderedDict(out=seq, h=(state[0] if with_c else state)[0])
        if with_c:
            out["c"] = state[1][0]
        return out

    c.finish(named(run_rnn(rnn, rnn_weights(rnn, kind, names, c.leaves), x, hx, lens)),
             named(run_rnn(rnn, None, x, hx, lens)), out_dir, mask)


def masked_bidirectional_case(out_dir, name, return_sequences):
    rnn = randomize(nn.LSTM(D, H, batch_first=True, bidirectional=True))
    c = Case(name, Holder(rnn=rnn))
    x = c.input("x", f32(B, T, D))
    lens = masked_lengths()
    mask = torch.arange(T)[None, :] < lens[:, None]
    c.data["mask"] = mask.float().numpy()

    def out(res):
        seq, (h, _) = res
        return {"out": seq if return_sequences else torch.cat([h[0], h[1]], dim=1)}

    c.finish(out(run_rnn(rnn, rnn_weights(rnn, "LSTM", ["lstm"], c.leaves), x, None, lens)),
             out(run_rnn(rnn, None, x, None, lens)), out_dir, mask)


class CharModel(nn.Module):
    """The sonnets notebook's char many-to-many model, in PyTorch."""

    def __init__(self, vocab=27, dim=64, units=256):
        super().__init__()
        self.embedding = nn.Embedding(vocab, dim)
        self.lstm = nn.LSTM(dim, units, batch_first=True)
        self.head = nn.Linear(units, vocab)


def sonnets_logits(model, leaves, ids):
    e = F.embedding(ids, leaves["embedding/embeddings"])
    seq, _ = run_rnn(model.lstm, rnn_weights(model.lstm, "LSTM", ["lstm"], leaves), e, None)
    return F.linear(seq, leaves["dense/kernel"].t(), leaves["dense/bias"])


def sonnets_case(out_dir, batch=4, steps=40, adam_steps=3):
    model = CharModel()
    randomize(model.embedding, 0.5), randomize(model.lstm, 0.1), randomize(model.head, 0.2)
    c = Case("sonnets", model)
    ids = c.input("x", torch.randint(0, 27, (batch, steps), dtype=torch.int32))
    y = torch.randint(0, 27, (batch, steps), dtype=torch.int32)
    c.data["y"] = y.numpy()
    logits = sonnets_logits(model, c.leaves, ids)
    own_seq, _ = run_rnn(model.lstm, None, model.embedding.double()(ids), None)
    own = model.head.double()(own_seq)
    assert (logits - own).abs().max().item() < 1e-6, "converted sonnets weights differ"
    loss = F.cross_entropy(logits.reshape(-1, 27), y.reshape(-1).long())
    c.data["out"] = torch.softmax(logits, -1).detach().float().numpy()
    c.data["loss"] = np.float32(loss.item())
    loss.backward()
    for k, t in c.leaves.items():
        c.data["grad:" + k] = t.grad.float().numpy()
    # Adam as Keras configures it (epsilon 1e-7), over the lamina-layout parameters,
    # starting again from the converted float32 weights.
    params = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in c.arrays.values()]
    named = dict(zip(c.arrays, params))
    opt = torch.optim.Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-7)
    for s in range(1, adam_steps + 1):
        xs = torch.randint(0, 27, (batch, steps), dtype=torch.int32)
        ys = torch.randint(0, 27, (batch, steps), dtype=torch.int32)
        c.data[f"adam:x{s}"], c.data[f"adam:y{s}"] = xs.numpy(), ys.numpy()
        opt.zero_grad()
        step_loss = F.cross_entropy(sonnets_logits(model, named, xs.long()).reshape(-1, 27), ys.reshape(-1).long())
        step_loss.backward()
        opt.step()
        c.data[f"adam:loss{s}"] = np.float32(step_loss.item())
    for k, t in named.items():
        c.data["adam:" + k] = t.detach().float().numpy()
    # The optimizer alone, fed the same float32 gradients, whose magnitudes span 1e-10
    # to 1 (around epsilon = 1e-7 the update is most sensitive), some exactly zero.
    n = 4096
    p = f32(n).double().requires_grad_(True)
    c.data["adamopt:p0"] = p.detach().float().numpy()
    opt = torch.optim.Adam([p], lr=1e-3, betas=(0.9, 0.999), eps=1e-7)
    for s in range(1, adam_steps + 1):
        g = (10 ** (torch.rand(n) * 10 - 10)) * torch.where(torch.rand(n) < 0.5, -1.0, 1.0)
        g[:16] = 0
        c.data[f"adamopt:g{s}"] = g.float().numpy()
        p.grad = torch.tensor(c.data[f"adamopt:g{s}"], dtype=torch.float64)
        opt.step()
    c.data["adamopt:p"] = p.detach().float().numpy()
    cw.save_npz(os.path.join(out_dir, "sonnets.npz"), c.arrays)
    np.savez(os.path.join(out_dir, "sonnets.data.npz"), **{k: np.ascontiguousarray(v) for k, v in c.data.items()})


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out_dir")
    ap.add_argument("--seed", type=int, default=1234)
    a = ap.parse_args()
    os.makedirs(a.out_dir, exist_ok=True)
    torch.manual_seed(a.seed)
    dense_case(a.out_dir)
    embedding_case(a.out_dir)
    rnn_case(a.out_dir, "simple_rnn", nn.RNN(D, H, batch_first=True, nonlinearity="tanh"), "SimpleRNN", False)
    rnn_case(a.out_dir, "lstm", nn.LSTM(D, H, batch_first=True), "LSTM", True)
    rnn_case(a.out_dir, "gru", nn.GRU(D, H, batch_first=True), "GRU", False)
    rnn_case(a.out_dir, "stacked_lstm", nn.LSTM(D, H, num_layers=2, batch_first=True), "LSTM", True)
    bidirectional_case(a.out_dir, "bidirectional_lstm", True)
    bidirectional_case(a.out_dir, "bidirectional_lstm_last", False)
    sonnets_case(a.out_dir)
    masked_rnn_case(a.out_dir, "masked_lstm", nn.LSTM(D, H, batch_first=True), "LSTM", True)
    masked_rnn_case(a.out_dir, "masked_gru", nn.GRU(D, H, batch_first=True), "GRU", False)
    masked_rnn_case(a.out_dir, "masked_simple_rnn", nn.RNN(D, H, batch_first=True, nonlinearity="tanh"),
                    "SimpleRNN", False)
    masked_bidirectional_case(a.out_dir, "masked_bidirectional_lstm", True)
    masked_bidirectional_case(a.out_dir, "masked_bidirectional_lstm_last", False)
    print(f"reference data written to {a.out_dir}")


if __name__ == "__main__":
    main()
