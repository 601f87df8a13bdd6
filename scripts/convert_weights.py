#!/usr/bin/env python3
"""Move weights between PyTorch, Keras and lamina's .npz files.

lamina stores a model's weights as a NumPy .npz (numpy.savez: an uncompressed zip of
.npy float32 arrays) named "<layer>/<param>" in Keras's layouts:

    embedding/embeddings   (V, D)
    dense/kernel (in, out), dense/bias (out,)
    lstm/kernel (D, 4H), lstm/recurrent_kernel (H, 4H), lstm/bias (4H,)   gates i, f, c, o
    gru/kernel (D, 3H), gru/recurrent_kernel (H, 3H), gru/bias (2, 3H)    gates z, r, h
    simple_rnn/kernel (D, H), simple_rnn/recurrent_kernel (H, H), simple_rnn/bias (H,)
    forward_lstm/..., backward_lstm/...   the two halves of a Bidirectional

PyTorch keeps W (out, in) and two biases; this tool transposes, sums the LSTM and RNN
biases (the sum is all the maths uses), reorders the GRU's r, z, n blocks to z, r, h
and keeps its two biases as Keras's reset_after bias rows. docs/interop.md has the
details and a worked example.

Command line (python3 scripts/convert_weights.py --help):
    torch2npz STATE_DICT.pt OUT.npz [--layer PREFIX=KIND[:NAME,...]]... [--rename FROM=TO]...
    npz2torch IN.npz TEMPLATE_STATE_DICT.pt OUT.pt [--layer ...]
    keras2npz MODEL.keras OUT.npz                     (needs keras)
    keras2npz LIST.npz OUT.npz --keras-layers SPEC    (no keras needed)
    npz2keras IN.npz MODEL.keras OUT.keras            (needs keras)
    npz2keras IN.npz OUT_LIST.npz --keras-layers SPEC (no keras needed)
    show FILE.npz

As a module: from_torch(state_dict) / to_torch(arrays, template), from_torch_module(model)
/ to_torch_module(model, arrays), from_keras(weights,
names) / to_keras(arrays, names), from_keras_model(model) / to_keras_model(model,
arrays), keras_names(model) / keras_names_from_spec(spec), save_npz / load_npz.
Only numpy is required; torch and keras are imported when a command needs them.
"""

import argparse
import re
import sys
from collections import OrderedDict

import numpy as np

__all__ = ["save_npz", "load_npz", "torch_layers", "from_torch", "to_torch", "from_torch_module", "to_torch_module",
           "keras_names", "keras_names_from_spec", "from_keras", "to_keras", "from_keras_model",
           "to_keras_model", "ConversionError"]


class ConversionError(ValueError):
    """Weights that cannot be converted; the message names the tensor and shapes."""


# ---- the .npz side ----

def save_npz(path, arrays):
    """Writes {name: array} as float32, C-ordered .npy members of a stored .npz."""
    clean = OrderedDict()
    for name, a in arrays.items():
        a = np.asarray(a)
        if a.dtype.kind not in "fiu":
            raise ConversionError(f"{name}: dtype {a.dtype} is not numeric")
        clean[name] = np.ascontiguousarray(a, dtype=np.float32)
    with open(path, "wb") as f:  # a file object: numpy would otherwise append ".npz"
        np.savez(f, **clean)


def load_npz(path):
    """{name: float32 array} in the file's order."""
    with np.load(path, allow_pickle=False) as z:
        return OrderedDict((k, np.asarray(z[k])) for k in z.files)


def _np(t):
    if hasattr(t, "detach"):
        t = t.detach().cpu().numpy()
    return np.asarray(t)


# ---- PyTorch ----

_KINDS = ("Embedding", "Dense", "LSTM", "GRU", "SimpleRNN", "skip")
_BASE = {"Embedding": "embedding", "Dense": "dense", "LSTM": "lstm", "GRU": "gru", "SimpleRNN": "simple_rnn"}
_GATES = {4: "LSTM", 3: "GRU", 1: "SimpleRNN"}


class _Names:
    """Keras's naming: the first "lstm" stays "lstm", the next is "lstm_1"."""

    def __init__(self):
        self.used = set()

    def take(self, base):
        name, k = base, 0
        while name in self.used:
            k += 1
            name = f"{base}_{k}"
        self.used.add(name)
        return name


def _group(state_dict):
    groups = OrderedDict()
    for key, value in state_dict.items():
        prefix, _, leaf = key.rpartition(".")
        groups.setdefault(prefix, OrderedDict())[leaf] = value
    return groups


def _rnn_shape(prefix, leaves):
    """(kind, num_layers, bidirectional, has_bias) of a torch RNN's parameters."""
    if any(k.startswith("weight_hr_l") for k in leaves):
        raise ConversionError(f"{prefix}: LSTM with proj_size has no Keras/lamina equivalent")
    w_ih, w_hh = _np(leaves["weight_ih_l0"]), _np(leaves["weight_hh_l0"])
    H = w_hh.shape[1]
    gates = w_ih.shape[0] // H
    if gates not in _GATES or w_ih.shape[0] != gates * H:
        raise ConversionError(f"{prefix}: weight_ih_l0 {w_ih.shape} is not 4H, 3H or H rows for H = {H}")
    layers = 1 + max(int(m.group(1)) for m in (re.match(r"weight_ih_l(\d+)", k) for k in leaves) if m)
    return _GATES[gates], layers, any(k.endswith("_reverse") for k in leaves), "bias_ih_l0" in leaves


def torch_layers(state_dict, layers=None):
    """Describes each module of a state_dict as a lamina layer: a list of dicts
    {prefix, kind, names, num_layers, bidirectional}. `layers` maps a module prefix to
    "KIND" or "KIND:NAME[,NAME...]" (KIND one of Embedding, Dense, LSTM, GRU,
    SimpleRNN, skip) to settle what a state_dict cannot tell: a bias-free nn.Linear
    and an nn.Embedding both hold one 2-D "weight" (a prefix containing "emb" is read
    as an Embedding), and the names to use (default: Keras's, in module order, e.g.
    embedding, lstm, lstm_1, dense). A stacked RNN takes one NAME per layer; a
    bidirectional one names the wrapped RNN, its halves becoming forward_NAME and
    backward_NAME."""
    hints = dict(layers or {})
    names, out = _Names(), []
    for prefix, leaves in _group(state_dict).items():
        hint = hints.pop(prefix, None)
        kind, given = (hint.split(":", 1) + [None])[:2] if hint else (None, None)
        if kind is not None and kind not in _KINDS:
            raise ConversionError(f"{prefix}: unknown kind {kind!r} (one of {', '.join(_KINDS)})")
        n_layers, bidi = 1, False
        if any(k.startswith("weight_ih_l") for k in leaves):
            found, n_layers, bidi, _ = _rnn_shape(prefix, leaves)
            if kind not in (None, "skip") and kind != found:
                raise ConversionError(f"{prefix}: holds a {found} but was given as {kind}")
            kind = kind or found
        elif set(leaves) <= {"weight", "bias"} and "weight" in leaves and _np(leaves["weight"]).ndim == 2:
            if kind is None:
                if "bias" in leaves:
                    kind = "Dense"
                elif "emb" in prefix.rsplit(".", 1)[-1].lower():
                    kind = "Embedding"
                else:
                    raise ConversionError(
                        f"{prefix}: a 2-D weight without bias is an nn.Embedding or a bias-free nn.Linear; "
                        f"say which with --layer {prefix}=Embedding or --layer {prefix}=Dense")
        elif kind is None:
            raise ConversionError(f"{prefix}: cannot convert a module with parameters {', '.join(leaves)} "
                                  f"(--layer {prefix}=skip leaves it out)")
        if kind == "skip":
            continue
        if given:
            chosen = given.split(",")
            for n in chosen:
                names.used.add(n)
        else:
            chosen = [names.take(_BASE[kind]) for _ in range(n_layers)]
        if len(chosen) != n_layers:
            raise ConversionError(f"{prefix}: {n_layers} stacked layers need {n_layers} names, got {given!r}")
        out.append({"prefix": prefix, "kind": kind, "names": chosen, "num_layers": n_layers,
                    "bidirectional": bidi, "leaves": list(leaves)})
    if hints:
        raise ConversionError(f"--layer given for modules the state_dict does not have: {', '.join(hints)}")
    return out


def _blocks(w, order, n):
    """Reorders the n equal row blocks of w (or entries of a 1-D w) by `order`."""
    parts = np.split(w, n, axis=0)
    return np.concatenate([parts[i] for i in order], axis=0)


# PyTorch's GRU blocks are r, z, n; Keras's are z, r, h. The permutation is its own inverse.
_GRU_ORDER = (1, 0, 2)


def _key(spec, leaf):
    return f"{spec['prefix']}.{leaf}" if spec["prefix"] else leaf


def from_torch(state_dict, layers=None):
    """{lamina name: float32 array} from a PyTorch state_dict (see torch_layers)."""
    sd = {k: _np(v) for k, v in state_dict.items()}
    out = OrderedDict()
    for spec in torch_layers(state_dict, layers):
        kind, g = spec["kind"], lambda leaf: sd[_key(spec, leaf)]
        if kind == "Embedding":
            out[spec["names"][0] + "/embeddings"] = g("weight")
        elif kind == "Dense":
            out[spec["names"][0] + "/kernel"] = g("weight").T
            if "bias" in spec["leaves"]:
                out[spec["names"][0] + "/bias"] = g("bias")
        else:
            for layer, name in enumerate(spec["names"]):
                for sfx, half in ([("", "forward_"), ("_reverse", "backward_")] if spec["bidirectional"] else [("", "")]):
                    w_ih, w_hh = g(f"weight_ih_l{layer}{sfx}"), g(f"weight_hh_l{layer}{sfx}")
                    H = w_hh.shape[1]
                    has_bias = f"bias_ih_l{layer}{sfx}" in spec["leaves"]
                    b_ih = g(f"bias_ih_l{layer}{sfx}") if has_bias else np.zeros(w_ih.shape[0], np.float32)
                    b_hh = g(f"bias_hh_l{layer}{sfx}") if has_bias else np.zeros(w_ih.shape[0], np.float32)
                    p = half + name
                    if kind == "GRU":
                        out[p + "/kernel"] = _blocks(w_ih, _GRU_ORDER, 3).T
                        out[p + "/recurrent_kernel"] = _blocks(w_hh, _GRU_ORDER, 3).T
                        out[p + "/bias"] = np.stack([_blocks(b_ih, _GRU_ORDER, 3), _blocks(b_hh, _GRU_ORDER, 3)])
                    else:  # LSTM (i, f, g, o is Keras's i, f, c, o) and SimpleRNN: same order
                        out[p + "/kernel"] = w_ih.T
                        out[p + "/recurrent_kernel"] = w_hh.T
                        out[p + "/bias"] = b_ih + b_hh
                    assert out[p + "/recurrent_kernel"].shape[0] == H
    return OrderedDict((k, np.ascontiguousarray(v, dtype=np.float32)) for k, v in out.items())


def _module_hints(module, layers=None):
    """--layer hints read from a module's own submodules (explicit ones win)."""
    import torch.nn as nn
    hints = dict(layers or {})
    kinds = {nn.Embedding: "Embedding", nn.Linear: "Dense", nn.LSTM: "LSTM", nn.GRU: "GRU", nn.RNN: "SimpleRNN"}
    for prefix, sub in module.named_modules():
        kind = kinds.get(type(sub))
        if kind == "SimpleRNN" and sub.nonlinearity != "tanh":
            raise ConversionError(f"{prefix}: nn.RNN with nonlinearity={sub.nonlinearity!r}; lamina's SimpleRNN is tanh")
        if kind and prefix not in hints and any(True for _ in sub.parameters(recurse=False)):
            hints[prefix] = kind
    return hints


def from_torch_module(module, layers=None):
    """Like from_torch, reading the kinds from the module's own submodules, so a
    bias-free nn.Linear or an nn.Embedding needs no hint."""
    return from_torch(module.state_dict(), _module_hints(module, layers))


def to_torch_module(module, arrays, layers=None):
    """Loads lamina-named arrays into a PyTorch module (see to_torch)."""
    module.load_state_dict(to_torch(arrays, module.state_dict(), _module_hints(module, layers)))
    return module


def to_torch(arrays, template, layers=None):
    """A state_dict shaped like `template` (a model's state_dict) holding `arrays`
    (lamina names). LSTM/RNN biases come back as bias_ih = the sum, bias_hh = 0: the
    same function as before. Every tensor the template's layers need must be present
    with the right shape, and no other. Returns torch tensors if the template has them."""
    arrays = OrderedDict((k, np.asarray(v, dtype=np.float32)) for k, v in arrays.items())
    used, out, problems = set(), OrderedDict(), []

    def take(name, shape):
        if name not in arrays:
            problems.append(f"'{name}' is missing")
            return np.zeros(shape, np.float32)
        used.add(name)
        a = arrays[name]
        if a.shape != tuple(shape):
            problems.append(f"'{name}' has shape {a.shape}, the model needs {tuple(shape)}")
            return np.zeros(shape, np.float32)
        return a

    tmpl = OrderedDict((k, _np(v)) for k, v in template.items())
    for spec in torch_layers(template, layers):
        kind = spec["kind"]
        put = lambda leaf, v: out.__setitem__(_key(spec, leaf), v)
        shp = lambda leaf: tmpl[_key(spec, leaf)].shape
        if kind == "Embedding":
            put("weight", take(spec["names"][0] + "/embeddings", shp("weight")))
        elif kind == "Dense":
            o, i = shp("weight")
            put("weight", take(spec["names"][0] + "/kernel", (i, o)).T)
            if "bias" in spec["leaves"]:
                put("bias", take(spec["names"][0] + "/bias", shp("bias")))
        else:
            for layer, name in enumerate(spec["names"]):
                for sfx, half in ([("", "forward_"), ("_reverse", "backward_")] if spec["bidirectional"] else [("", "")]):
                    p = half + name
                    G, D = shp(f"weight_ih_l{layer}{sfx}")
                    H = shp(f"weight_hh_l{layer}{sfx}")[1]
                    k = take(p + "/kernel", (D, G)).T
                    r = take(p + "/recurrent_kernel", (H, G)).T
                    b = take(p + "/bias", (2, G) if kind == "GRU" else (G,))
                    if kind == "GRU":
                        k, r = _blocks(k, _GRU_ORDER, 3), _blocks(r, _GRU_ORDER, 3)
                        b_ih, b_hh = _blocks(b[0], _GRU_ORDER, 3), _blocks(b[1], _GRU_ORDER, 3)
                    else:
                        b_ih, b_hh = b, np.zeros_like(b)
                    put(f"weight_ih_l{layer}{sfx}", k)
                    put(f"weight_hh_l{layer}{sfx}", r)
                    if f"bias_ih_l{layer}{sfx}" in spec["leaves"]:
                        put(f"bias_ih_l{layer}{sfx}", b_ih)
                        put(f"bias_hh_l{layer}{sfx}", b_hh)
                    elif np.any(b != 0):
                        problems.append(f"'{p}/bias' is not zero but the PyTorch layer has bias=False")
    problems += [f"'{n}' is not used by the PyTorch model" for n in arrays if n not in used]
    if problems:
        raise ConversionError("weights do not fit the PyTorch model: " + "; ".join(problems))
    for k in tmpl:
        out.setdefault(k, tmpl[k])  # buffers and skipped modules stay as they were
    out = OrderedDict((k, np.ascontiguousarray(out[k], dtype=tmpl[k].dtype)) for k in tmpl)
    if any(hasattr(v, "detach") for v in template.values()):
        import torch
        out = OrderedDict((k, torch.from_numpy(v).to(template[k].dtype)) for k, v in out.items())
    return out


# ---- Keras ----

_KERAS_PARAMS = {"Embedding": ["embeddings"], "Dense": ["kernel", "bias"],
                 "LSTM": ["kernel", "recurrent_kernel", "bias"], "GRU": ["kernel", "recurrent_kernel", "bias"],
                 "SimpleRNN": ["kernel", "recurrent_kernel", "bias"]}


def keras_names(model):
    """lamina names of model.get_weights(), in order, from a Keras model's layers."""
    names = []

    def visit(layer):
        cls = type(layer).__name__
        n_weights = len(layer.get_weights())
        if cls == "Bidirectional":
            visit(layer.forward_layer)
            visit(layer.backward_layer)
        elif cls == "TimeDistributed":
            visit(layer.layer)
        elif cls in _KERAS_PARAMS:
            params = list(_KERAS_PARAMS[cls])
            if not getattr(layer, "use_bias", True):
                if cls != "Dense":
                    raise ConversionError(f"{layer.name}: {cls} with use_bias=False (lamina's always has a bias)")
                params = ["kernel"]
            if cls == "GRU" and not getattr(layer, "reset_after", True):
                raise ConversionError(f"{layer.name}: GRU with reset_after=False (lamina's GRU is reset_after=True)")
            if n_weights != len(params):
                raise ConversionError(f"{layer.name}: {cls} has {n_weights} weights, expected {len(params)}")
            names.extend(f"{layer.name}/{p}" for p in params)
        elif n_weights:
            raise ConversionError(f"{layer.name}: cannot convert a {cls} layer")

    for layer in model.layers:
        visit(layer)
    return names


def keras_names_from_spec(spec):
    """lamina names of get_weights() from a layer list such as
    "Embedding:embedding, LSTM:lstm, TimeDistributed(Dense):dense, Bidirectional(GRU):gru,
    Dense/nobias:head" (CLASS:NAME; weight-free layers such as Dropout are left out)."""
    names = []
    for item in filter(None, (s.strip() for s in spec.split(","))):
        m = re.fullmatch(r"(?:(TimeDistributed|Bidirectional)\()?(\w+)(/nobias)?\)?:(\w+)", item)
        if not m or m.group(2) not in _KERAS_PARAMS:
            raise ConversionError(f"cannot read layer {item!r} (e.g. LSTM:lstm, Bidirectional(LSTM):lstm)")
        wrap, cls, nobias, name = m.groups()
        params = ["kernel"] if nobias and cls == "Dense" else _KERAS_PARAMS[cls]
        halves = ["forward_", "backward_"] if wrap == "Bidirectional" else [""]
        names.extend(f"{h}{name}/{p}" for h in halves for p in params)
    return names


def _check_keras_shapes(arrays):
    """Catches layouts lamina would read wrongly (e.g. a reset_after=False GRU bias)."""
    for name, a in arrays.items():
        layer, _, p = name.rpartition("/")
        k = arrays.get(layer + "/kernel")
        r = arrays.get(layer + "/recurrent_kernel")
        if p == "bias" and r is not None and a.shape not in ((r.shape[1],), (2, r.shape[1])):
            raise ConversionError(f"'{name}' has shape {a.shape}, expected ({r.shape[1]},) or (2, {r.shape[1]})")
        if p == "recurrent_kernel" and (a.ndim != 2 or k is None or k.ndim != 2 or k.shape[1] != a.shape[1]):
            raise ConversionError(f"'{name}' {a.shape} does not fit '{layer}/kernel'")


def from_keras(weights, names):
    """{lamina name: float32 array} from model.get_weights() and the matching names."""
    weights = list(weights)
    if len(weights) != len(names):
        raise ConversionError(f"{len(weights)} weight arrays but {len(names)} names")
    out = OrderedDict((n, np.ascontiguousarray(w, dtype=np.float32)) for n, w in zip(names, weights))
    _check_keras_shapes(out)
    return out


def to_keras(arrays, names):
    """The list model.set_weights() takes, in `names` order; every name must be present
    and no other array."""
    missing = [n for n in names if n not in arrays]
    extra = [n for n in arrays if n not in names]
    if missing or extra:
        raise ConversionError("weights do not fit the Keras model: " + "; ".join(
            [f"'{n}' is missing" for n in missing] + [f"'{n}' is not used by the Keras model" for n in extra]))
    return [np.asarray(arrays[n], dtype=np.float32) for n in names]


def from_keras_model(model):
    return from_keras(model.get_weights(), keras_names(model))


def to_keras_model(model, arrays):
    names = keras_names(model)
    ours = to_keras(arrays, names)
    for n, a, b in zip(names, ours, model.get_weights()):
        if a.shape != b.shape:
            raise ConversionError(f"'{n}' has shape {a.shape}, the Keras model needs {b.shape}")
    model.set_weights(ours)


# ---- command line ----

def _layer_hints(items):
    hints = {}
    for item in items or []:
        prefix, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"--layer {item!r}: expected PREFIX=KIND[:NAME,...]")
        hints[prefix] = value
    return hints


def _rename(arrays, items):
    """Applies --rename FROM=TO (layer names) to {name: array}."""
    pairs = dict(item.split("=", 1) for item in items or [] if "=" in item)
    if len(pairs) != len(items or []):
        raise SystemExit("--rename: expected FROM=TO")
    out = OrderedDict()
    for name, a in arrays.items():
        layer, sep, param = name.rpartition("/")
        out[pairs.get(layer, layer) + sep + param if sep else pairs.get(name, name)] = a
    return out


def _load_torch(path):
    import torch
    obj = torch.load(path, map_location="cpu")
    if hasattr(obj, "state_dict"):
        obj = obj.state_dict()
    return obj


def _keras_list(path):
    with np.load(path, allow_pickle=False) as z:
        return [np.asarray(z[f"arr_{i}"]) for i in range(len(z.files))]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 epilog="See docs/interop.md for layouts and a worked example.")
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("torch2npz", help="PyTorch state_dict (.pt) -> lamina .npz")
    p.add_argument("state_dict"), p.add_argument("out")
    p.add_argument("--layer", action="append", metavar="PREFIX=KIND[:NAME,...]")
    p = sub.add_parser("npz2torch", help="lamina .npz -> PyTorch state_dict, shaped like a template")
    p.add_argument("npz"), p.add_argument("template"), p.add_argument("out")
    p.add_argument("--layer", action="append", metavar="PREFIX=KIND[:NAME,...]")
    p = sub.add_parser("keras2npz", help="Keras model (.keras/.h5), or a get_weights() list .npz -> lamina .npz")
    p.add_argument("model"), p.add_argument("out")
    p.add_argument("--keras-layers", metavar="SPEC", help="with a list .npz (arr_0, arr_1, ...): its layers")
    p = sub.add_parser("npz2keras", help="lamina .npz -> Keras model file, or a set_weights() list .npz")
    p.add_argument("npz"), p.add_argument("model"), p.add_argument("out", nargs="?")
    p.add_argument("--keras-layers", metavar="SPEC", help="write a list .npz for these layers instead")
    for name, p in sub.choices.items():
        p.add_argument("--rename", action="append", metavar="FROM=TO",
                       help="rename layer FROM to TO on the way (repeatable)")
    p = sub.add_parser("show", help="list the arrays of an .npz")
    p.add_argument("npz")
    a = ap.parse_args(argv)
    try:
        if a.cmd == "torch2npz":
            save_npz(a.out, _rename(from_torch(_load_torch(a.state_dict), _layer_hints(a.layer)), a.rename))
        elif a.cmd == "npz2torch":
            import torch
            arrays = _rename(load_npz(a.npz), a.rename)
            torch.save(to_torch(arrays, _load_torch(a.template), _layer_hints(a.layer)), a.out)
        elif a.cmd == "keras2npz":
            if a.keras_layers:
                arrays = from_keras(_keras_list(a.model), keras_names_from_spec(a.keras_layers))
            else:
                import keras
                arrays = from_keras_model(keras.models.load_model(a.model))
            save_npz(a.out, _rename(arrays, a.rename))
        elif a.cmd == "npz2keras":
            arrays = _rename(load_npz(a.npz), a.rename)
            if a.keras_layers:
                with open(a.model, "wb") as f:
                    np.savez(f, *to_keras(arrays, keras_names_from_spec(a.keras_layers)))
            else:
                import keras
                if not a.out:
                    raise SystemExit("npz2keras: give OUT (the Keras model file to write)")
                model = keras.models.load_model(a.model)
                to_keras_model(model, arrays)
                model.save(a.out)
        else:
            for name, arr in load_npz(a.npz).items():
                print(f"{name:40s} {str(arr.shape):16s} {arr.dtype}")
    except ConversionError as e:
        print(f"convert_weights: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
