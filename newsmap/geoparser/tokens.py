"""An article's words, and the runs of capitalised words they form: what recognition reads.

A `Token` is a word with its offsets (a possessive "'s" kept outside the word); `Runs` answers,
for one sentence, which capitalised words stand joined to a word on either side, each question
in O(1), so no text can make recognition cost more than linear time.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass

WORD = re.compile(r"\w+(?:[’'.]\w+)*")  # "Mailuu-Suu" is two words joined by a hyphen; "U.S" one
JOINER = re.compile(r"[ \t\u00a0]{1,3}|[ \u00a0]?[-‐‑‒–—][ \u00a0]?")


@dataclass(frozen=True)
class Token:
    start: int
    end: int  # end of the word without a possessive "'s"
    text: str
    possessive: bool

    @functools.cached_property
    def capitalized(self) -> bool:
        return self.text[:1].isupper()


def tokenize(text: str, start: int, end: int) -> list[Token]:
    """The words of text[start:end] with their offsets; a possessive "'s" stays outside the word
    (so "Russia's" is a name the gazetteer knows) and is noted, since a name ends there."""
    tokens = []
    for match in WORD.finditer(text, start, end):
        word = match.group()
        possessive = len(word) > 2 and word[-2] in "’'" and word[-1] in "sS"
        stop = match.end() - 2 if possessive else match.end()
        tokens.append(Token(match.start(), stop, text[match.start() : stop], possessive))
    return tokens


def joined(text: str, left: Token, right: Token) -> bool:
    """Whether two neighbouring words may stand in one name: a space or two, a hyphen or dash, or a
    short abbreviation's period between them ("St. Louis"), and no possessive before the gap."""
    if left.possessive:
        return False
    gap = text[left.end : right.start]
    if JOINER.fullmatch(gap):
        return True
    # "St. Louis", "Mt. Everest": an abbreviation's period inside a name.
    return gap in (". ", ".\u00a0") and len(left.text) <= 3 and left.capitalized


class Runs:
    """One sentence's words, and the runs of capitalised words joined into one name that they form.

    The rules ask what stands next to a name: the capitalised words joined to it on either side
    ("Moscow State University", "Governor Jackson"), whether an organisation word is among
    them, how far a person's name reaches. Walking the run for each name made each name cost
    the length of its run, so a sentence of n capitalised words ("Bishkek Osh Kant Moscow ...",
    thousands of times) cost n² and took minutes. Here the runs' bounds are found in one pass
    over the sentence, and each "the next word from here that is not a surname" in one more pass
    per kind of question, so every question a rule asks is O(1).
    """

    def __init__(self, text: str, tokens: list[Token]) -> None:
        self.text = text
        self.tokens = tokens
        self._forward: dict[Callable[[Token], bool], list[int]] = {}
        self._backward: dict[Callable[[Token], bool], list[int]] = {}

    @functools.cached_property
    def _bounds(self) -> tuple[list[int], list[int]]:
        """(start, end): for each word j, the capitalised words joined to it are tokens[start[j] : j]
        on its left and tokens[j + 1 : end[j]] on its right."""
        tokens, count = self.tokens, len(self.tokens)
        capital = [token.capitalized for token in tokens]
        # linked[j]: tokens[j] and tokens[j + 1] stand in one name (asked only where a capital makes it matter)
        linked = [
            (capital[j] or capital[j + 1]) and joined(self.text, tokens[j], tokens[j + 1]) for j in range(count - 1)
        ]
        start = list(range(count))
        for j in range(1, count):
            if capital[j - 1] and linked[j - 1]:
                start[j] = start[j - 1]
        end = list(range(1, count + 1))
        for j in range(count - 2, -1, -1):
            if capital[j + 1] and linked[j]:
                end[j] = end[j + 1]
        return start, end

    @property
    def start(self) -> list[int]:
        return self._bounds[0]

    @property
    def end(self) -> list[int]:
        return self._bounds[1]

    def reach(self, i: int, stop: int, keep: Callable[[Token], bool]) -> int:
        """The first j in [i, stop) whose word `keep` refuses, or stop: tokens[i:j] all pass."""
        table = self._forward.get(keep)
        if table is None:
            table = [len(self.tokens)] * (len(self.tokens) + 1)
            for j in range(len(self.tokens) - 1, -1, -1):
                table[j] = table[j + 1] if keep(self.tokens[j]) else j
            self._forward[keep] = table
        return min(table[i], stop) if i < stop else stop

    def reach_back(self, i: int, stop: int, keep: Callable[[Token], bool]) -> int:
        """Going left from tokens[i] down to tokens[stop]: the smallest k such that every word of
        tokens[k : i + 1] passes `keep` (i + 1 when tokens[i] fails or i < stop)."""
        if i < stop:
            return i + 1
        table = self._backward.get(keep)
        if table is None:
            table, last = [], -1  # table[j]: the last word at or before j that `keep` refuses
            for j, token in enumerate(self.tokens):
                last = last if keep(token) else j
                table.append(last)
            self._backward[keep] = table
        return max(stop, table[i] + 1)
