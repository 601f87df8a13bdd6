#!/usr/bin/env python3
"""The LSTM configs of lamina's bench, built in PyTorch and timed the same way.

bench --peers runs this script; it can also be run by hand:

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=2 python3 scripts/peers/lstm_torch.py \
        --config C --vocab 8639 --batch 64 --length 3 --threads 1

It needs only PyTorch (Debian: apt-get install python3-torch; or pip install torch).
The layer sizes per config are those of apps/bench/lstm.c, and bench passes the
vocabulary, batch and length, so both sides always time the same model:

    A  Embedding(V,64) > LSTM(256, sequences) > Dense(V) at every step
    B  Embedding(V,64) > LSTM(64) > Dense(V) on the last step
    C  Embedding(V,10) > LSTM(1000, sequences) > LSTM(1000) > Dense(1000, relu) > Dense(V)
    D  Embedding(V,128) > LSTM(128, sequences) > Dense(V) at every step

A training step is Adam (lr 0.001) on sparse categorical cross-entropy over random
ids (8 batches, cycled); inference is a forward pass to the logits without
gradients. After `warmup` untimed steps, `reps` repetitions of `steps` steps are
timed. Prints one JSON line: {"torch": version, "threads": n, "params": n,
"train": {"ms_per_step_min", "ms_per_step_median"}, "infer": {...}}.
Exits 3 with a message when torch cannot be imported.
"""
import argparse
import json
import statistics
import sys
import time

try:
    import torch
    from torch import nn
except ImportError as e:  # bench reads exit status 3 as "this interpreter has no torch"
    print(f"lstm_torch.py: cannot import torch ({e}): apt-get install python3-torch, "
          "or pip install torch in a venv", file=sys.stderr)
    sys.exit(3)


class Net(nn.Module):
    """Embedding, one or two LSTMs, then the head; returns logits."""

    def __init__(self, config, vocab):
        super().__init__()
        emb, hidden = {"A": (64, 256), "B": (64, 64), "C": (10, 1000), "D": (128, 128)}[config]
        self.config = config
        self.embed = nn.Embedding(vocab, emb)
        self.lstm = nn.LSTM(emb, hidden, batch_first=True)
        if config == "C":
            self.lstm2 = nn.LSTM(hidden, hidden, batch_first=True)
            self.hidden = nn.Linear(hidden, hidden)
        self.out = nn.Linear(hidden, vocab)

    def forward(self, x):
        h, _ = self.lstm(self.embed(x))
        if self.config == "C":
            h, _ = self.lstm2(h)
            return self.out(torch.relu(self.hidden(h[:, -1])))
        if self.config == "B":
            return self.out(h[:, -1])
        return self.out(h)  # A, D: a prediction at every step


def timed(step, args):
    """Milliseconds per step of each repetition, after the warm-up."""
    for i in range(args.warmup):
        step(i)
    per_step = []
    for _ in range(args.reps):
        start = time.perf_counter()
        for i in range(args.steps):
            step(i)
        per_step.append(1e3 * (time.perf_counter() - start) / args.steps)
    return {"ms_per_step_min": min(per_step), "ms_per_step_median": statistics.median(per_step)}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--config", required=True, choices="ABCD")
    p.add_argument("--vocab", type=int, required=True)
    p.add_argument("--batch", type=int, required=True)
    p.add_argument("--length", type=int, required=True)
    p.add_argument("--threads", type=int, default=1, help="torch.set_num_threads")
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--train", action="store_true", help="time training (default: both)")
    p.add_argument("--infer", action="store_true", help="time inference (default: both)")
    args = p.parse_args()
    both = not args.train and not args.infer
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = Net(args.config, args.vocab)
    many = args.config in "AD"  # a target at every step
    xs = [torch.randint(0, args.vocab, (args.batch, args.length)) for _ in range(8)]
    ys = [torch.randint(0, args.vocab, (args.batch, args.length) if many else (args.batch,)) for _ in range(8)]
    result = {"torch": torch.__version__, "threads": torch.get_num_threads(), "config": args.config,
              "params": sum(q.numel() for q in model.parameters())}

    if args.train or both:
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        loss_fn = nn.CrossEntropyLoss()

        def train_step(i):
            opt.zero_grad(set_to_none=True)
            logits = model(xs[i % 8])
            loss = loss_fn(logits.reshape(-1, args.vocab), ys[i % 8].reshape(-1))
            loss.backward()
            opt.step()

        model.train()
        result["train"] = timed(train_step, args)

    if args.infer or both:
        model.eval()
        with torch.no_grad():
            result["infer"] = timed(lambda i: model(xs[i % 8]), args)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
