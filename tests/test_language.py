"""newsmap.language: an article's language from its own letters and words, on texts written here.

The geoparser reads English and Russian only, so what matters most is never to take a Kyrgyz,
Kazakh, Ukrainian or Tajik text for Russian, nor a German or Turkish one for English, while a
Russian text quoting Kyrgyz place names stays Russian and an English one quoting Russian stays English.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from newsmap.article import ArticleError, load_article
from newsmap.language import SUPPORTED, checked, choices, decide, detect, is_code, name, notice

RUSSIAN = (
    "В Бишкеке прошло заседание правительства. Премьер-министр Киргизии представил новые проекты. "
    "На юге страны строятся новые дороги, и эти работы завершатся в этом году."
)
KYRGYZ = (
    "Бишкекте өкмөттүн жыйыны өттү. Кыргызстандын премьер-министри жаңы долбоорлорду сунуштады. "
    "Өлкөнүн түштүгүндө жаңы жолдор курулуп жатат жана бул жумуштар быйыл бүтөт."
)
KAZAKH = (
    "Астанада үкіметтің отырысы өтті. Қазақстан премьер-министрі жаңа жобаларды ұсынды. "
    "Елдің оңтүстігінде жаңа жолдар салынып жатыр және бұл жұмыстар биыл аяқталады."
)
UKRAINIAN = (
    "У Києві відбулося засідання уряду. Прем'єр-міністр України представив нові проєкти. "
    "На півдні країни будуються нові дороги, і ці роботи завершаться цього року."
)
TAJIK = (
    "Дар Душанбе ҷаласаи ҳукумат баргузор шуд. Сарвазири Тоҷикистон лоиҳаҳои навро пешниҳод кард. "
    "Дар ҷануби кишвар роҳҳои нав сохта мешаванд ва ин корҳо имсол анҷом меёбанд."
)
# Kyrgyz spellings of places (Ысык-Көл, Чүй, Көк-Жар) inside Russian prose.
RUSSIAN_QUOTING_KYRGYZ = (
    "Российские военные провели учения на берегу озера Ысык-Көл и в Чүйской области, недалеко от "
    "авиабазы Кант. Жители села Көк-Жар рассказали, что колонна техники шла через их село всю ночь. "
    "Представители министерства обороны сообщили, что учения продлятся ещё неделю."
)
ENGLISH_QUOTING_RUSSIAN = (
    "Officials in Moscow said the base at Kant would stay open. \u00abМы остаёмся здесь надолго\u00bb, "
    "the spokesman told reporters in Bishkek on Monday, adding that the talks with the government "
    "were going well and that a new agreement was expected by the end of the year."
)
GERMAN = (
    "Die Regierung hat am Montag in Berlin eine neue Strategie vorgestellt. Der Minister sagte, dass die "
    "Truppen nicht abgezogen werden und die Zusammenarbeit mit den Partnern im Osten auch weiterhin "
    "wichtig sei. Die Opposition kritisierte den Plan als zu vage."
)
TURKISH = (
    "Türkiye ile Azerbaycan arasında yeni bir anlaşma imzalandı. Bakan, bu anlaşmanın bölge için çok "
    "önemli olduğunu ve daha fazla işbirliği için bir adım olarak görüldüğünü söyledi. Ancak bazı "
    "uzmanlar bu konuda farklı düşünüyor."
)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        (RUSSIAN, "ru"),
        (KYRGYZ, "ky"),
        (KAZAKH, "kk"),
        (UKRAINIAN, "uk"),
        (TAJIK, "tg"),
        (RUSSIAN_QUOTING_KYRGYZ, "ru"),
        (ENGLISH_QUOTING_RUSSIAN, "en"),
        (GERMAN, "de"),
        (TURKISH, "tr"),
        ("Officials met in Tashkent.", "en"),  # a short English note stays English, as it always was
        ("", "en"),
        ("12 345 — 2019", "en"),  # no letters: the library's old assumption
    ],
)
def test_detect(text: str, code: str) -> None:
    assert detect(text) == code


def test_the_other_cyrillic_languages_are_never_read_as_russian() -> None:
    """What matters most: none of them reaches the Russian geoparser."""
    for text in (KYRGYZ, KAZAKH, UKRAINIAN, TAJIK):
        assert detect(text) not in SUPPORTED


def test_a_russian_headline_alone_is_russian() -> None:
    assert detect("Россия и Киргизия договорились о базе в Канте") == "ru"


def test_the_language_given_overrides_the_detector() -> None:
    assert decide(RUSSIAN, "ky") == "ky"
    assert decide(RUSSIAN) == "ru"
    assert decide(KYRGYZ, "ru") == "ru"  # an editor may know better


def test_metadata_language_overrides_the_detector(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(RUSSIAN, encoding="utf-8")
    (tmp_path / "a.json").write_text(json.dumps({"language": "ky"}), encoding="utf-8")
    assert load_article(tmp_path / "a.txt").language == "ky"
    (tmp_path / "b.txt").write_text(RUSSIAN, encoding="utf-8")
    assert load_article(tmp_path / "b.txt").language == ""  # decided when stored: detected then
    (tmp_path / "b.json").write_text(json.dumps({"language": "Russian"}), encoding="utf-8")
    with pytest.raises(ArticleError, match="ISO 639-1"):
        load_article(tmp_path / "b.txt")


def test_checked_names_and_notice() -> None:
    assert checked(" RU ") == "ru" and checked("") == ""
    for bad in ("russian", "r", "ru-RU", "12"):
        with pytest.raises(ValueError, match="ISO 639-1"):
            checked(bad)
    assert is_code("ky") and not is_code("KY")
    assert name("ky") == "Kyrgyz" and name("ru") == "Russian" and name("xx") == "xx"
    assert notice("ky") == "This article is in Kyrgyz: places are found in English and Russian texts."
    assert notice("ru") == notice("en") == notice("") == ""
    listed = choices()
    assert listed["supported"] == [("en", "English"), ("ru", "Russian")]
    assert ("ky", "Kyrgyz") in listed["others"] and all(code not in SUPPORTED for code, _ in listed["others"])
