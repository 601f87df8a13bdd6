#!/usr/bin/env python3
"""Rewrites every fenced block of docs/apps.md that starts with "Usage: APP " with what
build/apps/APP --help prints now, so the quotes that tests/integration/app_docs.sh
checks follow the programs. Usage: scripts/update-app-docs.py [BUILD_DIR]"""
import pathlib
import re
import subprocess
import sys

root = pathlib.Path(__file__).resolve().parent.parent
build = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else root / "build")
doc = root / "docs" / "apps.md"
text = doc.read_text()


def current_help(match):
    app = match.group(2)
    out = subprocess.run([str(build / "apps" / app), "--help"], check=True, capture_output=True, text=True)
    return match.group(1) + out.stdout.rstrip("\n") + "\n```"


new = re.sub(r"(```\n)(?=Usage: (\w+) )Usage: \w+ .*?\n```", current_help, text, flags=re.S)
if new != text:
    doc.write_text(new)
    print(f"{doc.relative_to(root)}: updated")
else:
    print(f"{doc.relative_to(root)}: already matches")
