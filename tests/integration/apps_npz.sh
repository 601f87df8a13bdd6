#!/usr/bin/env bash
# The apps speak .npz: --save FILE.npz writes the Keras-named weights (numpy.load
# opens them), --load FILE.npz reads them back to the same held-out loss as the
# checkpoint of the same run, --resume refuses an .npz, and, where PyTorch is
# installed, app -> PyTorch state dict -> app gives back the very same arrays.
source "$(dirname "$0")/common.bash"
require_data sonnets.txt sherlock.txt
apps="$build_dir/apps"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
son=("$apps/sonnets" --max-steps 3 --sample 0 --quiet --json)

a=$("${son[@]}" --save a.w | tail -1)
b=$("${son[@]}" --save a.npz | tail -1)
[ "$(json_field "$a" val_loss)" = "$(json_field "$b" val_loss)" ] || { echo "FAIL: the runs differ: $a / $b"; exit 1; }
[ "$(head -c 4 a.npz | od -An -c | tr -d ' ')" = "PK003004" ] || { echo "FAIL: a.npz is not a zip archive"; exit 1; }
from_w=$(json_field "$("${son[@]}" --load a.w | tail -1)" val_loss)
from_npz=$(json_field "$("${son[@]}" --load a.npz | tail -1)" val_loss)
[ "$from_w" = "$from_npz" ] || { echo "FAIL: --load a.npz gives val_loss $from_npz, the checkpoint $from_w"; exit 1; }
echo "ok: sonnets --save/--load .npz: val_loss $from_npz, as from the checkpoint"

set +e
"$apps/sonnets" --resume a.npz >out 2>err
rc=$?
set -e
[ "$rc" = 2 ] && grep -q "an .npz holds the weights alone" err || { echo "FAIL: --resume a.npz -> $rc"; cat err; exit 1; }
echo "ok: --resume refuses an .npz"

"$apps/sherlock" --units 16 --embed 4 --max-steps 3 --save s.npz --quiet >/dev/null
[ -s s.npz ] && [ -s s.npz.vocab ] || { echo "FAIL: sherlock --save s.npz wrote no weights or vocabulary"; exit 1; }
"$apps/sherlock" --load s.npz --predict "holmes said that" --quiet | grep -q "after \"holmes said that\"" ||
  { echo "FAIL: sherlock --load s.npz --predict"; exit 1; }
echo "ok: sherlock --save s.npz writes s.npz and s.npz.vocab, and --load s.npz predicts"

py=${PYTHON:-/usr/bin/python3}
if ! "$py" -c "import numpy, torch" 2>/dev/null; then
  echo "SKIP: the PyTorch round trip needs numpy and torch for $py (apt-get install python3-torch)"
  exit 77
fi
"$py" -c "import numpy as np; z = np.load('a.npz'); assert z['lstm/kernel'].shape == (64, 1024), z.files"
cat >template.py <<'PY'
import torch
class CharModel(torch.nn.Module):  # sonnets' default model, PyTorch's way
    def __init__(self):
        super().__init__()
        self.embedding = torch.nn.Embedding(27, 64)
        self.lstm = torch.nn.LSTM(64, 256, batch_first=True)
        self.dense = torch.nn.Linear(256, 27)
torch.save(CharModel().state_dict(), "template.pt")
PY
"$py" template.py
convert=("$py" "$source_dir/scripts/convert_weights.py")
"${convert[@]}" npz2torch a.npz template.pt back.pt >/dev/null
"${convert[@]}" torch2npz back.pt b.npz >/dev/null
"$py" -c "
import numpy as np
a, b = np.load('a.npz'), np.load('b.npz')
assert sorted(a.files) == sorted(b.files), (a.files, b.files)
assert all((a[k] == b[k]).all() for k in a.files), 'arrays differ'"
back=$(json_field "$("${son[@]}" --load b.npz | tail -1)" val_loss)
[ "$back" = "$from_npz" ] || { echo "FAIL: after PyTorch, val_loss $back, before $from_npz"; exit 1; }
echo "ok: sonnets -> PyTorch -> sonnets: the same arrays, val_loss $back"
