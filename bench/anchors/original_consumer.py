"""A re-creation of the original student consumer's loop, as a latency anchor.

It polls the log file once a second (``time.sleep(1)``), reads what was appended and prints an
alert for each line containing a keyword, as ORIGIN.md describes (without its feedback loop).
Usage: original_consumer.py FILE KEYWORD...
"""

import sys
import time
from pathlib import Path

path, keywords = sys.argv[1], sys.argv[2:]
with Path(path).open() as log:
    while True:
        for line in log.readlines():
            if any(k in line for k in keywords):
                print(f"ALERT: The keyword was found in message! {line}", end="", flush=True)
        time.sleep(1)
