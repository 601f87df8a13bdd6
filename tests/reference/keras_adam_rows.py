"""Keras 3 (TensorFlow) against lamina's Adam with Keras's options (the per-lookup rule
for the embedding table and epsilon_hat), on the sonnets character model: Keras builds
the model, its initial weights and the batches; both train the same updates from them
and measure val_loss on the same windows.

usage: keras_adam_rows.py WORK_DIR KERAS_ADAM_ROWS_BINARY SONNETS_TXT [--updates N]
Exits 0 when lamina's val_loss under the per-lookup rule is within 1e-3 of Keras's.
"""
import argparse
import json
import os
import subprocess
import sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import keras  # noqa: E402
from keras import layers  # noqa: E402

T, B, V, EMBED, UNITS = 40, 128, 27, 64, 256
TOLERANCE = 1e-3


def encode(path):
    """lamina's 27 symbols: a..z are 1..26, anything else 0 (after lower-casing)."""
    text = open(path, encoding="utf-8").read().lower()
    return np.array([ord(c) - 96 if "a" <= c <= "z" else 0 for c in text], dtype=np.int32)


def windows(s, starts):
    return np.stack([s[i:i + T] for i in starts]), np.stack([s[i + 1:i + T + 1] for i in starts])


def keras_model():
    return keras.Sequential([keras.Input((None,), dtype="int32"), layers.Embedding(V, EMBED),
                             layers.LSTM(UNITS, return_sequences=True),
                             layers.TimeDistributed(layers.Dense(V, activation="softmax"))])


def val_loss(probs, vy):
    p = probs.reshape(-1, V)[np.arange(vy.size), vy.reshape(-1)]
    return float(-np.log(np.maximum(p, 1e-12)).mean())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("work")
    ap.add_argument("binary")
    ap.add_argument("text")
    ap.add_argument("--updates", type=int, default=300)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    tf.config.threading.set_intra_op_parallelism_threads(2)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    keras.utils.set_random_seed(a.seed)

    s = encode(a.text)
    n = int(len(s) * 0.9)
    train, val = s[:n], s[n:]
    rng = np.random.default_rng(a.seed)
    starts = np.arange(0, len(train) - T)
    order = np.concatenate([rng.permutation(len(starts)) for _ in range(a.updates * B // len(starts) + 1)])
    batches = starts[order[:a.updates * B]].reshape(a.updates, B).astype(np.int32)
    vx, vy = windows(val, np.arange(0, len(val) - T - 1, T))

    model = keras_model()
    model.compile(loss="sparse_categorical_crossentropy", optimizer=keras.optimizers.Adam(1e-3))
    w = model.get_weights()  # embeddings, kernel, recurrent_kernel, bias, dense kernel, dense bias
    names = ["embedding/embeddings", "lstm/kernel", "lstm/recurrent_kernel", "lstm/bias", "dense/kernel", "dense/bias"]
    init = os.path.join(a.work, "init.npz")
    np.savez(init, **{k: v.astype(np.float32) for k, v in zip(names, w)})
    for name, arr in (("train.i32", train), ("val.i32", val), ("batches.i32", batches)):
        arr.astype("<i4").tofile(os.path.join(a.work, name))

    for idx in batches:
        x, y = windows(train, idx)
        model.train_on_batch(x, y)
    keras_val = val_loss(model.predict(vx, batch_size=1024, verbose=0), vy)

    out = subprocess.run([a.binary, a.work, str(a.updates)], check=True, capture_output=True, text=True).stdout
    lamina = json.loads(out.strip().splitlines()[-1])
    diff = lamina["per_lookup"] - keras_val
    print(f"Keras {keras.__version__} (TensorFlow {tf.__version__}), {a.updates} updates, seed {a.seed}, "
          f"shared initial weights and batches:")
    print(f"  val_loss Keras {keras_val:.5f}  lamina per-lookup {lamina['per_lookup']:.5f} (diff {diff:+.2e})  "
          f"lamina summed {lamina['summed']:.5f}")
    if abs(diff) > TOLERANCE:
        print(f"FAIL: lamina's per-lookup rule is {abs(diff):.2e} from Keras (tolerance {TOLERANCE})")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
