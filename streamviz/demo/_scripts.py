"""Scripted answers, the BPE-like tokenizer and answer selection for the demo models."""

from __future__ import annotations

import functools
import re

__all__ = ["answer_tokens", "split_bars", "tokenize", "tokens_of"]

# One regex alternative per token class.  A single leading space sticks to the
# word, number or symbol after it, as in real BPE vocabularies; other whitespace
# runs become tokens of their own (keeping the last space for the next word).
_PIECES = re.compile(
    r" ?[^\W\d_]+"  # a word (any script), with its leading space
    r"| ?\d+"  # a number
    r"| ?[^\w\s]"  # one punctuation mark, symbol or emoji code point
    r"| ?_"  # underscore is a word character but neither letter nor digit
    r"|\s+(?= \S)|\s+"  # whitespace runs, leaving one space for a following word
    r"|(?s:.)"  # safety net, so every character lands in some token
)
_MAX_WORD_PIECE = 5
_DIGIT_GROUP = 3


def _split_word(piece: str) -> list[str]:
    """Cut a long word into near-equal pieces of at most five letters."""
    space = " " if piece.startswith(" ") else ""
    word = piece[len(space) :]
    if len(word) <= _MAX_WORD_PIECE:
        return [piece]
    count = -(-len(word) // _MAX_WORD_PIECE)
    size, extra = divmod(len(word), count)
    parts, start = [], 0
    for i in range(count):
        end = start + size + (1 if i < extra else 0)
        parts.append(word[start:end])
        start = end
    parts[0] = space + parts[0]
    return parts


def _split_number(piece: str) -> list[str]:
    """Cut digits into thousands groups (``67413000`` -> ``67 413 000``)."""
    space = " " if piece.startswith(" ") else ""
    digits = piece[len(space) :]
    head = len(digits) % _DIGIT_GROUP or _DIGIT_GROUP
    parts = [digits[:head]]
    parts += [digits[i : i + _DIGIT_GROUP] for i in range(head, len(digits), _DIGIT_GROUP)]
    parts[0] = space + parts[0]
    return parts


@functools.lru_cache(maxsize=256)
def tokens_of(text: str) -> tuple[str, ...]:
    """Memoized `tokenize` returning a shared tuple (answers and prompts repeat a lot)."""
    tokens: list[str] = []
    for match in _PIECES.finditer(text):
        piece = match.group()
        core = piece.lstrip(" ")
        if core[:1].isdecimal():
            tokens.extend(_split_number(piece))
        elif core[:1].isalpha():
            tokens.extend(_split_word(piece))
        else:
            tokens.append(piece)
    return tuple(tokens)


def tokenize(text: str) -> list[str]:
    """Split text into BPE-like tokens, deterministically and losslessly.

    Words keep their leading space and long words are cut into pieces of at
    most five letters; numbers are cut into groups of up to three digits;
    punctuation marks and symbols are separate tokens; other whitespace runs
    are kept as tokens.  The result only *looks* like a real tokenizer's
    output: it exists so that streamed demo answers have plausible token
    boundaries.

    Parameters
    ----------
    text : str
        Any text, in any script.

    Returns
    -------
    list of str
        Non-empty tokens; ``"".join(tokenize(text)) == text`` always holds.

    Examples
    --------
    >>> tokenize("Streaming 12345 tokens!")
    ['Strea', 'ming', ' 12', '345', ' tok', 'ens', '!']

    """
    return list(tokens_of(text))


def split_bars(notation: str) -> tuple[str, ...]:
    r"""Read pipe notation: ``"The| sky|."`` -> ``("The", " sky", ".")``.

    A backslash escapes the next character, so ``\|`` is a literal bar and
    ``\\`` a literal backslash.
    """
    tokens, current, chars = [], [], iter(notation)
    for char in chars:
        if char == "\\":
            current.append(next(chars, "\\"))
        elif char == "|":
            tokens.append("".join(current))
            current = []
        else:
            current.append(char)
    tokens.append("".join(current))
    return tuple(token for token in tokens if token)


def _countries_tokens() -> tuple[str, ...]:
    """Tokens of the guide's countries JSON, split the way a chat model emits JSON.

    Keys and values open with their own quote token, so a partial-JSON parser
    sees ``{}``, then ``{'countries': []}``, ``[{}]``, ``{'name': ''}`` and so on.
    """
    countries = [("France", 67413000), ("Spain", 47351567), ("Japan", 125584000)]
    tokens = ["{", "\n  ", '"', "countries", '":', " ["]
    for index, (name, population) in enumerate(countries):
        closing = "}," if index < len(countries) - 1 else "}"
        tokens += ["\n    ", "{", "\n      ", '"', "name", '":', ' "', name, '",']
        tokens += ["\n      ", '"', "population", '":', " "]
        tokens += _split_number(str(population))
        tokens += ["\n    ", closing]
    tokens += ["\n  ", "]", "\n", "}"]
    return tuple(tokens)


SKY = split_bars("The| sky| appears| blue| during| the| day|.")
GREETING = split_bars("Hello|!| How| can| I| assist| you| today|?")
PARROT = split_bars(
    "Why| did| the| par|rot| join| the| jazz| band|?"
    "| It| could| re|peat| any| solo| after| hearing| it| once|!"
    "| The| drum|mer| grew| nerv|ous| when| it| started| copying| his| ex|cuses|,| too|."
    "| Now| the| band| just| calls| it| the| feather|ed| echo|."
)
KENSHO = split_bars(
    "Harrison| worked| at| Ken|sho|,| according| to| the| context|."
    "| Ken|sho| is| an| imaginary| lakeside| office| where| the| white|boards| never| get| erased|."
    "| Its| kitchen| keeps| a| shelf| of| hot| sauces| that| visitors| are| dared| to| try|."
    "| On| Fridays| the| whole| team| folds| paper| boats| and| races| them| in| the| fountain|."
)
COUNTRIES = _countries_tokens()
CATS = split_bars(
    "Why| did| the| cat| sit| on| the| ice| cream|?| Because| it| wanted| to| be| a| "
    "little| cool|er| about| its| fur|-|ocious| appetite|!"
)
POEM = split_bars(
    "Whisk|ers| in| the| moon|light|,| a| bowl| of| van|illa| snow|;"
    "| the| cat| and| the| cone| agree| on| nothing| but| the| glow|."
)

# Keyword -> answer, checked in order; the first keyword found in the prompt wins.
BUILT_IN_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("sky", SKY),
    ("parrot", PARROT),
    ("poem", POEM),
    ("cats", CATS),
    ("countries", COUNTRIES),
    ("harrison", KENSHO),
    ("kensho", KENSHO),
    ("context:", KENSHO),
    ("hello", GREETING),
)
_QUOTE_LIMIT = 60


def default_answer(question: str) -> str:
    """Deterministic fallback answer that quotes (the start of) the question."""
    quoted = " ".join(question.split())
    if len(quoted) > _QUOTE_LIMIT:
        quoted = quoted[: _QUOTE_LIMIT - 3].rstrip() + "..."
    return (
        f'I am an offline demo model, so I can only pretend to answer "{quoted}". '
        "Try asking about the sky, a parrot joke or the countries example."
    )


def answer_tokens(question: str, script: dict[str, str] | None = None) -> tuple[str, ...]:
    """Pick the scripted answer for ``question`` (user rules first) as tokens."""
    lowered = question.lower()
    for keyword, answer in (script or {}).items():
        if keyword.lower() in lowered:
            return tokens_of(answer)
    for keyword, tokens in BUILT_IN_RULES:
        if keyword in lowered:
            return tokens
    return tokens_of(default_answer(question))
