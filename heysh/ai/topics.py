"""Offline topic extraction: the most frequent content words of a document.

No model and no network: topics are the words that occur most often once
stop words, numbers and very short tokens are removed. This is the fallback
the AI worker uses when no LLM is configured; it is deterministic, so a
retried activity returns the same topics.
"""

from __future__ import annotations

import re
from collections import Counter

# Letters (any script) with inner apostrophes or hyphens: "state-owned", "don't".
_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")

# Function words of English and Swedish, plus newswire filler. Kept short on
# purpose: frequency already pushes most remaining filler down the list.
_STOP_WORDS = frozenset(
    # A word list reads better as text than as 200 quoted strings.
    """
    a about above after again against all also am an and any are as at be
    because been before being below between both but by can could did do does
    doing down during each few for from further had has have having he her here
    hers herself him himself his how i if in into is it its itself just me more
    most my myself no nor not now of off on once only or other our ours
    ourselves out over own same she should so some such than that the their
    theirs them themselves then there these they this those through to too
    under until up very was we were what when where which while who whom why
    will with would you your yours yourself yourselves said says say new one
    two three year years last first told mr mrs ms per cent percent inc ltd
    corp co reuters may might must shall us via within without upon among
    och att det som en på är av för med till den har de inte om ett han men
    var jag sig från vi så kan man när år säger hon nu ska eller efter alla
    under också än hade då där vid mot bara sin sina sitt ut upp över vara
    blir blev dem deras denna detta dessa hur vad vilken vilket vilka mycket
    skulle kunna måste finns får ha
    """.split()  # noqa: SIM905 - see the comment above
)


def extract_topics(text: str, *, max_topics: int = 8) -> list[str]:
    """Return up to ``max_topics`` topic words, most frequent first.

    Ties are broken by first occurrence, so the result is deterministic.

    Args:
        text: Normalised document text; empty text gives no topics.
        max_topics: Largest number of topics returned.

    Returns:
        Lower-cased words of at least three letters that are not stop words.

    >>> extract_topics("Oil prices rose. OPEC said oil output and oil prices fell.",
    ...                max_topics=4)
    ['oil', 'prices', 'rose', 'opec']
    """
    if max_topics <= 0:
        raise ValueError(f"max_topics must be positive, got {max_topics}")
    counts: Counter[str] = Counter()
    first_seen: dict[str, int] = {}
    for position, match in enumerate(_WORD.finditer(text)):
        word = match.group(0).lower().replace("’", "'")
        if len(word) < 3 or word in _STOP_WORDS:
            continue
        counts[word] += 1
        first_seen.setdefault(word, position)
    ranked = sorted(counts, key=lambda w: (-counts[w], first_seen[w]))
    return ranked[:max_topics]


def derive_title(text: str, *, max_chars: int = 120) -> str:
    """Return the first non-empty line of ``text``, cut at a word boundary.

    >>> derive_title("\\n  Oil prices rise sharply today\\nBody", max_chars=20)
    'Oil prices rise…'
    """
    for line in text.splitlines():
        line = line.strip()
        if line:
            return _cut_at_word(line, max_chars)
    return ""


def _cut_at_word(text: str, max_chars: int) -> str:
    if len(text) <= max_chars:
        return text
    cut = text[: max_chars - 1]
    if " " in cut:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:.-") + "…"
