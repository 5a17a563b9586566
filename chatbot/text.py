"""One way to fold text for matching, shared by the guard and the retrieval: casefolded, umlauts
spelled out ("Übelkeit" and "Uebelkeit" are one word), typographic apostrophes made plain."""

_SPELL_OUT = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "\u2019": "'"})


def spell_out(text: str) -> str:
    return text.casefold().translate(_SPELL_OUT)
