"""The status an article's own words give a place: in operation, planned, closed, handed over, ...

A library follows a place over time (`/places/<key>`): a 2012 report of a lease extension, a 2019
report of a handover to come, a 2023 report of the handover done. What each article says must
then come from that article's text, read with its tense and its negations, never copied from the
gazetteer's row (which says one thing for every article). These are a few general rules of
English news phrasing, read in the clause around each mention of the place:

1. **The clause.** A mention's sentence is cut at `; : — ( )` and at ", and", ", but", "while",
   "whereas", "although": "Russia will open a base at X, but the base at Y was closed" gives X
   and Y a clause each. A relative clause about something else (", which ...,") is set aside
   first, and read only when the rest of the clause says nothing.
2. **The cue.** The verbs and nouns that say something of a place's state, each in a family:
   closing ("closed", "shut down", "withdrew from", "left", "abandoned", "former"), handing over
   ("handed over", "transferred to"), opening ("open", "build", "set up", "under construction"),
   hosting ("hosts", "stationed", "deployed", "is based at"), going on ("operates", "remains",
   "includes", "expanded", "leased"), a destination ("sent drones to X"), discussion
   ("proposed", "talks on", "under discussion") and planning ("planned", "future"). Before the
   mention a cue may take any form ("will open a base at X"); after it, the place is the subject,
   so only a finite or passive form counts ("X was closed", "X hosts", "X could host"), never a
   bare verb that belongs to another subject ("... X and close the base at Y"). The cue nearest
   the mention decides.
3. **Its tense and modality**, read in the few words before the cue (cut at "that", "and", ...):
   "will", "would", "plans to", "is to be", "expected to", "being" make an opening or hosting
   `planned`, a closing `closure planned`, a handover `handover planned`; "could", "might",
   "may", "possibly" make an opening `under discussion`, a closing `closure discussed`, a
   handover `handover discussed`. Otherwise an opening or hosting is `in operation`, a closing
   `closed`, a handover `handed over`.
4. **Negation** ("no", "not", "never", "n't", "without", "ruled out", "refused to") in those
   words flips a closing or a handover ("has no plans to close the base at X", "X was never
   handed over": `in operation`) and voids an opening, a plan or a discussion ("no plans to open
   a base at X": nothing). A denial ("officials deny that troops remain at X") of a presence
   gives `presence denied`. "No longer" is a closing, not a negation.
5. **Nothing else said.** For a facility, a present "is", "are", "has" with no other cue is
   `in operation` ("The largest is the air base in Kant"); a past one says nothing.
6. **The article's verdict** is its mentions' most telling one, in the order of `PRECEDENCE`
   (a handover or closing is news; that a base operates is background), or "" when its text
   says nothing of the place's state.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from newsmap.article import Article

IN_OPERATION = "in operation"
PLANNED = "planned"
DISCUSSED = "under discussion"
CLOSED = "closed"
CLOSURE_PLANNED = "closure planned"
CLOSURE_DISCUSSED = "closure discussed"
HANDED_OVER = "handed over"
HANDOVER_PLANNED = "handover planned"
HANDOVER_DISCUSSED = "handover discussed"
DENIED = "presence denied"
# Most telling first: an article's verdict is the first of these that one of its mentions gives.
PRECEDENCE = (
    HANDED_OVER, CLOSED, HANDOVER_PLANNED, CLOSURE_PLANNED, HANDOVER_DISCUSSED, CLOSURE_DISCUSSED,
    PLANNED, DISCUSSED, DENIED, IN_OPERATION,
)  # fmt: skip
STATUSES = PRECEDENCE

# Kinds for which a bare "is" says nothing of a state (a town "is" many things).
AREA_KINDS = frozenset(
    [
        "city",
        "town",
        "village",
        "settlement",
        "country",
        "region",
        "province",
        "district",
        "republic",
        "state",
        "lake",
        "river",
        "sea",
        "mountain",
        "mountains",
        "valley",
        "island",
        "continent",
        "capital",
        "oblast",
        "county",
    ]
)
WINDOW = 240  # characters of the sentence read each side of a mention (keeps a huge sentence linear)
MODIFIER_WINDOW = 45  # characters before a cue read for its tense, modality and negation


def _words(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


# Cue families: (name, anywhere before the mention, after it as a finite or passive verb).
_CUES: tuple[tuple[str, re.Pattern[str], re.Pattern[str]], ...] = (
    (
        "close",
        _words(
            r"\b(?:clos(?:e|es|ed|ing|ure\s+of)|shut(?:s|ting)?(?:\s+down)?|withdr(?:aw|aws|ew|awn|awal)\s+from|"
            r"abandon(?:s|ed|ing)?|vacat(?:e|es|ed|ing)|dismantl(?:e|es|ed|ing)|decommission(?:s|ed|ing)?|"
            r"evacuat(?:e|es|ed|ing)|pull(?:s|ed|ing)?\s+out\s+of|former(?:ly)?|no\s+longer)\b"
        ),
        _words(
            r"\b(?:closed|closes|shut\s+down|shuts|abandoned|vacated|dismantled|decommissioned|evacuated|"
            r"no\s+longer|used\s+to\s+be|ceased)\b"
        ),
    ),
    (
        "handover",
        _words(
            r"\b(?:hand(?:s|ed|ing)?\s+(?:\w+\s+){0,2}?(?:over|back)|handover\s+of|transfer(?:s|red|ring)?(?:\s+of)?|"
            r"turn(?:s|ed|ing)?\s+over|ced(?:e|es|ed|ing)|return(?:s|ed|ing)?)\b"
        ),
        _words(
            r"\b(?:handed\s+(?:over|back)|hands\s+over|transferred\s+to|turned\s+over\s+to|ceded|returned\s+to|given\s+back)\b"
        ),
    ),
    (
        "open",
        _words(
            r"\b(?:open(?:s|ed|ing)?|build(?:s|ing)?|built|construct(?:s|ed|ing|ion\s+of)?|"
            r"establish(?:es|ed|ing|ment\s+of)?|set(?:s|ting)?\s+up|creat(?:e|es|ed|ing|ion\s+of))\b"
        ),
        _words(r"\b(?:opened|opens|built|constructed|established|set\s+up|created)\b"),
    ),
    (
        "host",
        _words(
            r"\b(?:host(?:s|ed|ing)?|station(?:s|ed|ing)?|deploy(?:s|ed|ing|ment)?|based\s+(?:at|in|on)|basing|"
            r"garrison(?:s|ed)?|hous(?:e|es|ed|ing))\b"
        ),
        _words(r"\b(?:hosts|hosted|houses|housed|garrisons|(?:is|are|was|were)\s+home\s+to)\b"),
    ),
    (
        "continue",
        _words(
            r"\b(?:remain(?:s|ed|ing)?|stay(?:s|ed|ing)?|continu(?:e|es|ed|ing)|operat(?:e|es|ed|ing|ional|ions\s+at)|"
            r"in\s+(?:use|service|operation)|expan(?:d|ds|ded|ding|sion\s+of)|extend(?:s|ed|ing)?|reinforc(?:e|es|ed|ing)|"
            r"upgrad(?:e|es|ed|ing)|moderni[sz](?:e|es|ed|ing|ation\s+of)|renew(?:s|ed|ing|al\s+of)?|"
            r"leas(?:e|es|ed|ing)|includ(?:e|es|ed|ing)|uses|used\s+by|run\s+by|operated\s+by|manned|"
            r"maintain(?:s|ed|ing)?|keep(?:s|ing)?|kept|under\s+\w+\s+control)\b"
        ),
        _words(
            r"\b(?:remains|remained|stays|stayed|continues|continued|operates|operated|operational|"
            r"in\s+(?:use|service|operation)|expanded|extended|reinforced|upgraded|moderni[sz]ed|renewed|leased|"
            r"includes|included|is\s+used|are\s+used|run\s+by|manned|maintained|kept|under\s+\w+\s+control)\b"
        ),
    ),
    (
        "discuss",
        _words(
            r"\b(?:discuss(?:es|ed|ing|ions?\s+(?:of|on|about|over))?|propos(?:e|es|ed|ing|al\s+(?:of|for|to))|"
            r"talks\s+(?:on|about|over)|negotiat\w*\s+(?:on|about|over)|consider(?:s|ed|ing)?|possib(?:le|ly|ility\s+of)|"
            r"potential(?:ly)?|moot(?:s|ed)?|idea\s+of|question\s+of|prospect\s+of|debat(?:e|es|ed|ing))\b"
        ),
        _words(
            r"\b(?:(?:is|are|was|were|be|been|being)\s+(?:\w+\s+)?(?:discussed|proposed|considered|mooted|debated)|"
            r"under\s+(?:discussion|consideration)|on\s+the\s+agenda)\b"
        ),
    ),
    (
        "plan",
        _words(r"\b(?:planned|future|projected|would-be|plans?\s+(?:a|an|for)|under\s+construction)\b"),
        _words(r"\b(?:(?:is|are|was|were)\s+planned|under\s+construction|being\s+built)\b"),
    ),
)
# A destination right before the mention ("sent new drones to the base in X"): it is there, whatever the tense.
_DESTINATION = _words(
    r"\b(?:send|sends|sent|sending|deliver\w*|fl(?:y|ies|ew|own|ying)|mov(?:e|es|ed|ing)|arriv(?:e|es|ed|ing)|"
    r"rotat\w*|brought|bring\w*|redeploy\w*|deploy\w*|transferr?\w*|return\w*|dispatch\w*|land(?:s|ed|ing))\b"
    r"[^.;:!?]{0,80}?\b(?:to|at|into)\s+(?:[\w’'-]+\s+){0,3}$"
)
_LEFT = _words(
    r"\b(?:leav(?:e|es|ing)|left)\s+(?:the\s+|its\s+|their\s+)?(?:[\w’'-]+\s+)?$"
)  # "troops left the base at X"
# A bare verb after the mention counts when an auxiliary governs it ("X could host", "X will be closed").
_AUXILIARY = _words(
    r"\b(?:will|would|could|might|may|shall|can|must|cannot|to|be|been|being|is|are|was|were|has|have|had)"
    r"(?:\s+(?:not|never|also|soon|again|still|now|no\s+longer|n['’]t))*\s+$"
)
_WEAK = _words(r"\b(?:is|are|has|have|there\s+(?:is|are))\b")
_DENY = _words(r"\b(?:den(?:y|ies|ied|ying)|dismiss(?:es|ed|ing)?|reject(?:s|ed|ing)?|refut(?:e|es|ed|ing))\b")
_NEGATION = _words(
    r"\b(?:no(?!\s+longer)|not|never|neither|nor|without|cannot|ruled?\s+out|refus(?:e|es|ed|ing)\s+to)\b|n['’]t\b"
)
_FUTURE = _words(
    r"\b(?:will|shall|would|to\s+be|is\s+to|are\s+to|plans?\s+to|planning\s+to|planned\s+to|intends?\s+to|"
    r"intending\s+to|aims?\s+to|wants?\s+to|hopes?\s+to|seeks?\s+to|expect\w*\s+to|due\s+to|set\s+to|going\s+to|"
    r"about\s+to|agreed\s+to|decided\s+to|prepar\w*\s+to|being|next\s+year|soon)\b|['’]ll\b"
)
_MODAL = _words(r"\b(?:could|might|may|possibly|potentially|perhaps|can)\b")
# Where the words that govern a cue stop: a new clause inside the sentence.
_GOVERNS = _words(r"\b(?:that|which|who|and|but|when|after|before|because|while|since|although|if)\b|,")
_CLAUSE = _words(r"[;:()!?—–]|,\s+(?:and|but|while|whereas|although|though)\b|\s(?:while|whereas|although)\s")
_RELATIVE = _words(r",\s*(?:which|who|whose|where)\b[^,;:()]*(?:,|$)")


class Located(Protocol):
    """A mention as the geoparser holds it: its sentence's index and where it is."""

    sentence: int
    start: int
    end: int


@dataclass(frozen=True)
class Cue:
    family: str
    start: int
    end: int
    after: bool  # after the mention (the place is the verb's subject)


def text_status(text: str, spans: Iterable[tuple[int, int, int, int]], kind: str = "") -> str:
    """The status the text gives a place from its mentions, each `(sentence start, sentence end,
    mention start, mention end)`, or "" when the text says nothing of its state. `kind` is the
    place's ("air base", "town"): a bare present "is" counts only for a facility."""
    facility = kind.strip().lower() not in AREA_KINDS
    found = {verdict for span in spans if (verdict := mention_status(text, *span, facility=facility))}
    return next((status for status in PRECEDENCE if status in found), "")


def facility_status(article: Article, mentions: Iterable[Located], kind: str = "") -> str:
    """`text_status` of a place's mentions in an article (the geoparser's hook: describe.py)."""
    bounds = article.sentences
    return text_status(
        article.text, ((bounds[m.sentence].start, bounds[m.sentence].end, m.start, m.end) for m in mentions), kind
    )


def mention_status(text: str, s_start: int, s_end: int, m_start: int, m_end: int, *, facility: bool = True) -> str:
    """What one mention's clause says of the place, or ""."""
    lo, hi = max(s_start, m_start - WINDOW), min(s_end, m_end + WINDOW)
    head, tail = text[lo:m_start], text[m_end:hi]
    cut = max((m.end() for m in _CLAUSE.finditer(head)), default=0)
    end = next((m.start() for m in _CLAUSE.finditer(tail)), len(tail))
    head, tail = head[cut:], tail[:end]
    masked_head, masked_tail = _RELATIVE.sub(_blank, head), _RELATIVE.sub(_blank, tail)
    verdict = _clause_status(masked_head, masked_tail, facility)
    if not verdict and (masked_head, masked_tail) != (head, tail):
        verdict = _clause_status(head, tail, facility)
    return verdict


def _blank(match: re.Match[str]) -> str:
    """A relative clause set aside, its length kept (offsets stay comparable)."""
    return " " * len(match[0])


def _clause_status(head: str, tail: str, facility: bool) -> str:
    """The verdict of the cue nearest the mention in its clause (`head` before it, `tail` after)."""
    if _DESTINATION.search(head) or _LEFT.search(head):
        family = "destination" if _DESTINATION.search(head) else "close"
        return _verdict(family, head, len(head), deny_scope=head)
    cues = _cues(head, tail)
    if cues:
        cue = min(cues, key=lambda c: c.start if c.after else len(head) - c.end)
        before = head[: cue.start] if not cue.after else tail[: cue.start]
        scope = head + tail[: cue.start] if cue.after else head[: cue.start]
        return _verdict(cue.family, before, len(before), deny_scope=scope)
    if facility:
        weak = [m for m in _WEAK.finditer(head)] + [m for m in _WEAK.finditer(tail)]
        if weak:
            return _verdict("weak", head + " " + tail, len(head), deny_scope=head + tail)
    return ""


def _cues(head: str, tail: str) -> list[Cue]:
    found = []
    for family, before, after in _CUES:
        found += [Cue(family, m.start(), m.end(), False) for m in before.finditer(head)]
        found += [Cue(family, m.start(), m.end(), True) for m in after.finditer(tail)]
        for m in before.finditer(tail):  # a bare verb after the mention, governed by an auxiliary
            if _AUXILIARY.search(tail[: m.start()]) and not after.match(tail, m.start()):
                found.append(Cue(family, m.start(), m.end(), True))
    return found


def _governing(window: str) -> str:
    """The words of `window` that govern the cue after it: from the last new clause on, or, when the
    cue is a verb coordinated with the one before ("will open a base at X and close ..."), that one's."""
    cuts = list(_GOVERNS.finditer(window))
    if cuts and cuts[-1][0].lower() == "and" and not window[cuts[-1].end() :].strip():
        return window[cuts[-2].end() if len(cuts) > 1 else 0 : cuts[-1].start()]
    return window[cuts[-1].end() :] if cuts else window


def _verdict(family: str, before: str, at: int, *, deny_scope: str) -> str:
    """A cue's family read with the tense, modality and negation of the words just before it."""
    governed = _governing(before[max(0, at - MODIFIER_WINDOW) : at])
    negated = bool(_NEGATION.search(governed))
    denied = bool(_DENY.search(deny_scope))
    modal = bool(_MODAL.search(governed))
    future = bool(_FUTURE.search(governed))
    if family in ("close", "handover"):
        if negated:
            return IN_OPERATION
        done, planned, discussed = (
            (CLOSED, CLOSURE_PLANNED, CLOSURE_DISCUSSED)
            if family == "close"
            else (HANDED_OVER, HANDOVER_PLANNED, HANDOVER_DISCUSSED)
        )
        return discussed if modal else planned if future else done
    if family in ("host", "continue", "weak", "destination"):
        if denied:
            return DENIED
        if negated:
            return ""
        if family == "host":
            return DISCUSSED if modal else PLANNED if future else IN_OPERATION
        return IN_OPERATION
    if negated or denied:
        return ""  # no plans to open, no discussion of, ruled out: nothing said of its state
    if family == "open":
        return DISCUSSED if modal else PLANNED if future else IN_OPERATION
    return DISCUSSED if family == "discuss" else PLANNED
