"""A re-creation of the original student producer's hot loop, as a speed anchor.

Per message: four random.choice calls, an f-string, a logger call and a time.sleep(0) (the
original's interval 0), as ORIGIN.md describes. Writes to stdout; stops after N messages.
"""

import logging
import random
import sys
import time

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[2]))
from buzzline_cli import vocabulary as v

logging.basicConfig(
    stream=sys.stdout,
    level=logging.INFO,
    format="%(asctime)s.%(msecs)03d | %(levelname)-8s | %(name)s - %(message)s",
)
log = logging.getLogger("__main__")
count = int(sys.argv[1])
for _ in range(count):
    adjective = random.choice(v.ADJECTIVES)
    action = random.choice(v.ACTIONS)
    topic = random.choice(v.TOPICS)
    state = random.choice(v.STATES)
    log.info(f"While in {state} I just {action} {topic}! It was {adjective}.")
    time.sleep(0)
