"""An article's language, told from its own letters and words: one ISO 639-1 code per article.

The geoparser reads English and Russian. What it must never do is parse a Kyrgyz, Kazakh, Ukrainian
or Tajik text as Russian (their words are not Russian words, and a Russian model would find
nonsense in them), nor a German or Turkish text as English. So the detector is built on what
tells those languages apart, cheaply and without a model:

- **the script** most of the letters are in: Latin, Cyrillic, Arabic, Han, Hangul, Georgian,
  Armenian, Greek, Hebrew, Devanagari, Thai;
- **in Cyrillic, the letters a language adds to Russian's alphabet**: Kyrgyz ң ө ү; Kazakh ә ғ қ ұ
  і (and ң ө ү); Ukrainian і ї є ґ; Belarusian ў і; Tajik ӣ ӯ ҳ ҷ (and ғ қ); Uzbek ў қ ғ ҳ;
  Tatar ә җ; Bashkir ҙ ҫ ҡ; Serbian and Macedonian ј љ њ; Bulgarian writes no ы or э and many ъ.
  A Russian text quoting a Kyrgyz place ("Ысык-Көл") holds a few such letters; a Kyrgyz text holds
  them in every other word, so a language counts only past a share of the Cyrillic letters;
- **in Latin script, the commonest function words** of English and a few other languages: a text is
  English unless another language's words clearly outnumber English ones (a short English note,
  "Officials met in Tashkent", has few of either, and stays English as it always was).

`language` in an article's metadata (the seed's `.json`, the web form, the API) overrides the
detector. Nothing here imports the geoparser: the store and the pages read the stored code.
"""

from __future__ import annotations

import re
from collections import Counter

SUPPORTED = ("en", "ru")  # the languages the geoparser reads; others are stored, with a notice and no places
NAMES = {
    "en": "English", "ru": "Russian", "uk": "Ukrainian", "be": "Belarusian", "bg": "Bulgarian", "sr": "Serbian",
    "mk": "Macedonian", "kk": "Kazakh", "ky": "Kyrgyz", "tg": "Tajik", "uz": "Uzbek", "mn": "Mongolian",
    "tt": "Tatar", "ba": "Bashkir", "de": "German", "fr": "French", "es": "Spanish", "it": "Italian",
    "pt": "Portuguese", "nl": "Dutch", "pl": "Polish", "tr": "Turkish", "az": "Azerbaijani", "ro": "Romanian",
    "cs": "Czech", "sv": "Swedish", "ar": "Arabic", "fa": "Persian", "ur": "Urdu", "zh": "Chinese",
    "ja": "Japanese", "ko": "Korean", "ka": "Georgian", "hy": "Armenian", "el": "Greek", "he": "Hebrew",
    "hi": "Hindi", "th": "Thai",
}  # fmt: skip
CODE = re.compile(r"[a-z]{2}")

MARKED = 0.005  # a language's own letters in at least 0.5% of the Cyrillic letters: a few names do not reach it
_SCRIPTS: tuple[tuple[str, str], ...] = (
    ("latin", "a-zA-Z\u00c0-\u024f"),
    ("cyrillic", "\u0400-\u04ff\u0500-\u052f"),
    ("arabic", "\u0600-\u06ff\u0750-\u077f"),
    ("han", "\u4e00-\u9fff"),
    ("kana", "\u3040-\u30ff"),
    ("hangul", "\uac00-\ud7af\u1100-\u11ff"),
    ("georgian", "\u10a0-\u10ff"),
    ("armenian", "\u0530-\u058f"),
    ("greek", "\u0370-\u03ff"),
    ("hebrew", "\u0590-\u05ff"),
    ("devanagari", "\u0900-\u097f"),
    ("thai", "\u0e00-\u0e7f"),
)
_SCRIPT_OF = {name: re.compile(f"[{letters}]") for name, letters in _SCRIPTS}
_ONE_SCRIPT = {"georgian": "ka", "armenian": "hy", "greek": "el", "hebrew": "he", "devanagari": "hi",
               "thai": "th", "hangul": "ko"}  # fmt: skip
# The commonest short function words of Latin-script languages (lower case).
_FUNCTION_WORDS = {
    "en": "the of and to in is that for it was on with as by at from are this be has have were not an which",
    "de": "der die das und ist nicht ein eine mit von zu den dem des auf für sich auch wird im",
    "fr": "le la les des et est une un du dans que pour sur pas au aux avec ce qui sont par",
    "es": "el la los las de y en que por con una para del se su al es lo como",
    "it": "il di che la per non una sono gli della del con le nel alla anche",
    "pt": "o os da do das dos que em uma um para com não se na no ao",
    "nl": "de het een en van is dat op te zijn met voor niet die ook",
    "pl": "i w na z się że do nie jest to od po przez jak dla",
    "tr": "ve bir bu da de ile için olarak olan çok daha gibi ama ancak",
    "az": "və bir bu ilə üçün olan da də ki isə",
    "uz": "va bir bu bilan uchun ham edi esa deb",
    "ro": "și în de la cu pe că este un o din care pentru",
    "cs": "a v je se na že to s z do jako pro",
    "sv": "och att det som en på är av för med till den",
}  # fmt: skip
_WORDS = {code: frozenset(words.split()) for code, words in _FUNCTION_WORDS.items()}
_CYRILLIC_WORD = re.compile(r"[\u0400-\u052f]+")
_LATIN_WORD = re.compile(r"[a-zA-Z\u00c0-\u024f]+")


def choices() -> dict[str, object]:
    """The web form's language list: the languages read first, then every other named one by name."""
    others = sorted(((code, label) for code, label in NAMES.items() if code not in SUPPORTED), key=lambda c: c[1])
    return {
        "supported": [(code, name(code)) for code in SUPPORTED],
        "others": others,
        "readable": " and ".join(name(code) for code in SUPPORTED),
    }


def is_code(value: str) -> bool:
    """Whether a metadata `language` is an ISO 639-1 code as stored ("ru", "en")."""
    return bool(CODE.fullmatch(value))


def name(code: str) -> str:
    """ "Kyrgyz" for "ky"; the code itself when it has no name here."""
    return NAMES.get(code, code)


def decide(text: str, given: str = "") -> str:
    """The language an article is stored with: the one given (metadata, the form, the API's field,
    `--language`), else the detector's. Every way in calls it before geoparsing, so the geoparser
    is asked only about languages it reads (`SUPPORTED`)."""
    return given or detect(text)


def checked(value: str) -> str:
    """A language as a person typed it ("RU ", "") as stored ("ru", "" for detect); ValueError with
    a one-line reason for anything that is not an ISO 639-1 code."""
    code = value.strip().lower()
    if code and not is_code(code):
        raise ValueError(f'language must be an ISO 639-1 code such as "en" or "ru" (or empty to detect it), not {value!r}')
    return code


def notice(code: str) -> str:
    """What an article's page says when its language is not one the geoparser reads ("" when it is):
    the article is stored and shown, with no places rather than places misread."""
    if not code or code in SUPPORTED:
        return ""
    readable = " and ".join(name(c) for c in SUPPORTED)
    return f"This article is in {name(code)}: places are found in {readable} texts."


def detect(text: str) -> str:
    """The text's language (ISO 639-1), from its script, its letters and its function words.

    Latin script and anything undecided is English, the language the library has always assumed."""
    counts = {script: len(pattern.findall(text)) for script, pattern in _SCRIPT_OF.items()}
    script = max(counts, key=lambda s: (counts[s], s == "latin"))
    if counts[script] == 0:
        return "en"
    if script == "cyrillic":
        return _cyrillic(text, counts[script])
    if script == "latin":
        return _latin(text)
    if script in ("han", "kana"):
        return "ja" if counts["kana"] else "zh"
    if script == "arabic":
        return "ur" if re.search("[ٹڈڑںے]", text) else "fa" if re.search("[پچژگ]", text) else "ar"
    return _ONE_SCRIPT[script]


def _cyrillic(text: str, total: int) -> str:
    """Russian, or the Cyrillic language whose own letters the text is full of (see the module's
    docstring), asked in an order where each language's letters are not another's still to come."""
    # Only the words written in lower case count: a Russian article names Kyrgyz places ("Ысык-Көл",
    # "Чүй") but writes Russian common words, while a Kyrgyz text's common words are full of ө ү ң.
    common = [word for word in _CYRILLIC_WORD.findall(text) if word[0].islower()]
    letters = Counter(ch for word in common for ch in word)
    counted = sum(letters.values())
    if counted < total / 4:  # a headline or a list of names: every word counts
        letters, counted = Counter(ch for ch in text.lower() if "\u0400" <= ch <= "\u052f"), total

    def share(chars: str) -> float:
        return sum(letters[ch] for ch in chars) / max(counted, 1)

    half = MARKED / 2
    rules = (
        ("mk", share("ј") > 0 and share("ѓќѕ") >= MARKED / 5),
        ("sr", share("јљњћђџ") >= MARKED),
        ("tg", share("ӣӯҷ") >= half),
        ("ba", share("ҙҫҡ") >= half),
        ("tt", share("җ") >= MARKED / 4 and share("ә") >= half),
        ("uz", share("ў") >= half and share("қғҳ") >= half),
        ("kk", share("әұқғ") >= half and share("әұіқғңөү") >= MARKED),
        ("be", share("ў") >= half or (share("і") >= MARKED and share("и") < 0.005)),
        ("uk", share("їєґ") >= half or share("і") >= MARKED),
        ("ky", share("ңөү") >= MARKED),  # Mongolian's ө ү too: in this region's press, Kyrgyz
        ("bg", share("ыэ") < 0.002 and share("ъ") >= MARKED),
    )
    return next((code for code, holds in rules if holds), "ru")


def _latin(text: str) -> str:
    """English unless another language's function words clearly outnumber English ones."""
    words = [w.lower() for w in _LATIN_WORD.findall(text)]
    if len(words) < 12:
        return "en"
    hits = {code: sum(1 for w in words if w in vocabulary) for code, vocabulary in _WORDS.items()}
    best = max(hits, key=lambda code: (hits[code], code == "en"))
    if best != "en" and hits[best] >= 2 * hits["en"] + 3 and hits[best] >= 0.08 * len(words):
        return best
    return "en"
