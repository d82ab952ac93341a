"""What the words around a name say about it: the patterns recognition and resolution test.

Each is a compiled regular expression over the text just before or after a name ("in Fargo",
"Welch said", "the state of New York", "a Palestine man"); recognition (`recognition`, `rules`)
and resolution (`resolution`) read the same ones, so a cue means the same thing to both.
"""

from __future__ import annotations

import re

# Between the names of a route: "Uzbekistan-China-Kyrgyzstan railway".
HYPHEN = re.compile(r"[ \u00a0]?[-‐‑‒–—][ \u00a0]?")
LOCATIVE = re.compile(
    r"\b(?:in|at|near|from|to|into|outside|across|around|toward|towards|via|through|of|"
    r"visit|visited|visiting|entered|left|between|and)\s+(?:the\s+)?[“\"‘']?$",
    re.IGNORECASE,
)
# Prepositions that put what follows on the ground ("in Fargo"), unlike "according to Orlov".
IN_PLACE = re.compile(
    r"\b(?:in|at|near|outside|from|into|across|around|(?:north|south|east|west)(?:-?(?:east|west))?\s+of|"
    r"(?:km|kilometres|kilometers|miles)\s+from)\s+(?:the\s+)?$",
    re.IGNORECASE,
)
# After a name, words that make it a town's: "a Palestine man", "Palestine police", "the Fargo area".
LOCAL_USE = re.compile(
    r"(?:[’']s)?[ \u00a0]+(?:man|woman|men|women|boy|girl|teen|teenager|youth|resident|residents|native|couple|family|"
    r"police|officer|officers|firefighters|mayor|city\s+council|city\s+limits|city\s+hall|school|schools|"
    r"area|neighborhood|neighbourhood|suburb|downtown)\b",
    re.IGNORECASE,
)
LANGUAGE_BEFORE = re.compile(
    r"\b(?:in|speak|speaks|spoke|spoken|speaking|translated\s+into|translation\s+into|learn|learned|learning|"
    r"taught|teach|teaches|fluent|fluently)\s+$",
    re.IGNORECASE,
)
# "China opened its first", "Russia has operated a": a country, then a verb of running a facility.
OPERATES = re.compile(
    r"^(?:[’']s)?[^.;!?]{0,60}?\b(?:opened|opens|operates|operated|runs|ran|built|builds|maintains|maintained|"
    r"established|set\s+up|leases|leased|uses|used|deployed|stations|stationed|controls|controlled|has|had)\b"
    r"[^.;!?]{0,60}$",
    re.IGNORECASE,
)
# Words that make a name the region, not the city of the same name: "the state of New York", "Osh region".
REGION_BEFORE = re.compile(r"\b(?:state|province|region|canton|county|oblast|prefecture|governorate)\s+of\s+$", re.I)
REGION_AFTER = re.compile(
    r"[ \u00a0]+(?:state|province|region|canton|county|oblast|prefecture|governorate|land)\b(?![ \u00a0]+[A-Z])", re.I
)
NAME_ENDS = re.compile(
    r"[ \u00a0]*(?:[,.;:)!?]|$|(?:on|in|at|and|or|for|from|to|with|by|last|this|next|where|when|after|before)\b)"
)
CLOSED = re.compile(r"[ \u00a0]*(?:[,.;:)!?]|$)")
WORD_AFTER = re.compile(r"[ \u00a0]+([A-Za-z]+)\b")
# What news writes only of people: "Welch, 48,", "Welch said", "Welch's mother", "Welch and his
# mother", "according to Welch", "stabbed Welch". A lone capitalised word seen so is a person's name.
PERSON_AFTER = re.compile(
    r"(?<![\w.-])(?P<word>[A-Z][a-z]+(?:[’'][A-Z][a-z]+)?)(?=,[ \u00a0]\d{1,3},|[ \u00a0]+(?:said|says|told|added|asked|"
    r"testified|pleaded|admitted|explained|noted|wrote|recalled|replied|argued|insisted|declined|died|visited|"
    r"resigned|smiled|laughed|shouted|apologized|apologised)\b|[’']s[ \u00a0]+"
    r"(?:wife|husband|son|daughter|mother|father|brother|sister|family|attorney|lawyer|widow|girlfriend|boyfriend|"
    r"parents)\b|[ \u00a0]+and[ \u00a0]+(?:his|her)[ \u00a0])"
)
AMPERSAND_BEFORE = re.compile(r"[A-Z][\w.’']*[ \u00a0]&[ \u00a0]$")
AMPERSAND_AFTER = re.compile(r"[ \u00a0]&[ \u00a0][A-Z]")
PRODUCT_YEAR = re.compile(r"\b(?:a|an|the|his|her|their|my|our)[ \u00a0]+(?:19|20)\d\d[ \u00a0]+$", re.IGNORECASE)
HYPHEN_BEFORE = re.compile(r"(?<![\w-])(?P<word>[A-Z][\w’']*)-$")
HYPHEN_AFTER = re.compile(r"-(?P<word>[A-Z][\w’']*)(?![\w-])")
OF_PLACE = re.compile(r"\b(?:of|in|at|from)[ \u00a0]+$")
SUFFIXES = frozenset({"Jr", "Sr", "II", "III", "IV"})
PERSON_BEFORE = re.compile(
    r"\b(?:according[ \u00a0]+to|stabbed|shot|killing|arrested|charged|sentenced|convicted|thanked|interviewed|married)"
    r"[ \u00a0]+(?P<word>[A-Z][a-z]+(?:[’'][A-Z][a-z]+)?)\b(?![’']s\b|[ \u00a0-]+[A-Z])"
)
# How far before a facility phrase its operator may be named ("China opened its first overseas base"):
# more than OPERATES (a verb with at most 60 characters either side) and a possessive can span.
OPERATOR_REACH = 240
SETTLEMENT_NOUNS = r"(?:town|village|city|settlement|lake|region|district|province|area|island|oblast|republic)"
