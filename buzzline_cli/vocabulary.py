"""The default vocabulary and template: exactly the original project's (see ORIGIN.md)."""

from __future__ import annotations

TEMPLATE = "While in {state} I just {action} {topic}! It was {adjective}."

FIELDS = ("state", "action", "topic", "adjective")

ADJECTIVES = (
    "astonishing",
    "delightful",
    "peculiar",
    "mysterious",
    "dreadful",
    "fascinating",
    "ridiculous",
    "majestic",
    "captivating",
    "spectacular",
    "outrageous",
    "intriguing",
)

ACTIONS = (
    "explored",
    "created",
    "discovered",
    "experienced",
    "shared",
    "loved",
    "learned",
    "designed",
    "tried",
    "watched",
    "built",
)

TOPICS = (
    "a hiking trail",
    "a flyfishing spot",
    "a backpacking trip",
    "a mountain climb",
    "a wildlife encounter",
    "a river crossing",
    "a hidden waterfall",
    "a snowshoeing path",
    "a sunrise view",
    "a cave exploration",
    "a night under the stars",
    "an off-road journey",
)

STATES = (
    "Montana",
    "Idaho",
    "Wyoming",
    "Utah",
    "Colorado",
    "New Mexico",
    "Kansas",
    "Minnesota",
    "South Dakota",
    "Washington",
    "Oregon",
    "California",
    "Nevada",
    "Arizona",
)

# Sentiment of the default adjectives (used by `stats`); anything unlisted is neutral.
POSITIVE = (
    "astonishing",
    "delightful",
    "fascinating",
    "majestic",
    "captivating",
    "spectacular",
    "intriguing",
)
NEGATIVE = ("dreadful", "ridiculous", "outrageous")
NEUTRAL = ("peculiar", "mysterious")

# The seed README's keywords, and the original's alert rule (Colorado AND one of five).
SEED_KEYWORDS = (
    "Colorado",
    "flyfishing",
    "hiking",
    "wildlife encounter",
    "backpacking",
    "snowshoeing",
)
