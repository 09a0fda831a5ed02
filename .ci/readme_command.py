"""Print the README command after the marker ``<!-- NAME -->`` (run-command, test-command)."""

import pathlib
import re
import sys

text = (pathlib.Path(__file__).resolve().parents[1] / "README.md").read_text()
match = re.search(rf"<!-- {sys.argv[1]} -->\s*```(?:bash|sh)?\n(.+?)\n```", text, re.S)
if not match:
    sys.exit(f"README.md has no <!-- {sys.argv[1]} --> command")
print(match.group(1))
