"""The cheap, deterministic checks that run before anything looks for an answer: emergencies,
and the hard block on medical questions, prompt injection and off-topic chat (the length cap is
the API serializer's).

Plain word lists, German and English, so every refusal is explainable and testable. They err on
the side of refusing: a practice chatbot that declines a harmless question costs a phone call;
one that hints at a diagnosis or a dose can cost a health.
"""

from __future__ import annotations

import re

from .text import spell_out

EMERGENCY = "emergency"
CRISIS = "crisis"  # suicidal thoughts: emergency numbers and the Telefonseelsorge
MEDICAL = "medical"
INJECTION = "injection"
OFF_TOPIC = "off_topic"


def normalise(text: str) -> str:
    """Folded like the patterns (text.spell_out), whitespace collapsed."""
    return re.sub(r"\s+", " ", spell_out(text)).strip()


def _patterns(*words: str) -> re.Pattern:
    # Each entry is a regex fragment matched from a word start, folded like the text it meets.
    return re.compile(r"(?<![\w])(?:" + "|".join(spell_out(w) for w in words) + r")", re.IGNORECASE)


CRISIS_PATTERNS = _patterns(
    r"suizid", r"selbstmord", r"mich umbringen", r"mir das leben nehmen", r"nicht mehr leben",
    r"suicid", r"kill myself", r"end my life", r"want to die", r"sterben will",
)
EMERGENCY_PATTERNS = _patterns(
    r"\w*brustschmerz", r"schmerzen? in der brust", r"herzinfarkt", r"schlaganfall", r"bewusstlos",
    r"ohnmacht", r"keine luft", r"atemnot", r"kann nicht (?:mehr )?atmen", r"krieg\w* keine luft",
    r"starke blutung", r"blutet stark", r"vergiftung", r"notfall", r"notarzt", r"krampfanfall",
    r"chest pains?", r"heart attack", r"stroke", r"unconscious", r"passed out", r"fainted",
    r"can'?t breathe", r"cannot breathe", r"can not breathe", r"struggling to breathe",
    r"bleeding (?:heavily|badly|a lot)", r"poison", r"overdos", r"seizure", r"emergency",
)
MEDICAL_PATTERNS = _patterns(
    # Diagnosis
    r"diagnos", r"was (?:habe|hab) ich (?:denn )?(?:\?|für)", r"habe ich (?:\w+ )?(?:krebs|diabetes|corona|covid|grippe)",
    r"ist (?:das|es) (?:gefährlich|schlimm|krebs|ansteckend|normal)", r"what do i have",
    r"do i have (?:an? )?(?:cancer|diabetes|covid|flu|infection|disease|\w+itis)", r"is (?:it|this) (?:cancer|dangerous|serious|contagious|normal)",
    r"krankheit", r"erkrank", r"disease", r"infection", r"infekt", r"entzündung",
    # Symptoms
    r"symptom", r"\w*schmerz", r"tut (?:mir )?weh", r"fieber", r"husten", r"ausschlag", r"juckt",
    r"schwindel", r"übelkeit", r"erbrechen", r"durchfall", r"blut im", r"pain", r"hurts?\b",
    r"(?:head|stomach|tooth|back|ear)ache", r"fever", r"cough", r"rash", r"itch", r"dizzy", r"nausea", r"vomit", r"diarrh",
    r"swollen", r"geschwollen", r"lump", r"knoten",
    # Medication and dosage
    r"medikament", r"tablette", r"pille", r"dosis", r"dosierung", r"einnehmen", r"nebenwirkung",
    r"wechselwirkung", r"antibiotik", r"ibuprofen", r"paracetamol", r"aspirin", r"insulin",
    r"\d+ ?mg\b", r"medication", r"medicine", r"pills?\b", r"tablets?\b", r"dose", r"dosage",
    r"side effect", r"antibiotic", r"how much \w+ should i take", r"should i take",
    r"soll ich \w+ nehmen", r"wie viel \w+ (?:darf|soll|kann) ich",
    r"behandl\w* (?:ich|man)", r"how (?:do i|to) treat", r"treatment for", r"therapie gegen",
)
INJECTION_PATTERNS = _patterns(
    r"ignore (?:all |any |the |your )?(?:previous|prior|above|earlier)", r"ignore (?:all|your) (?:rules|instructions)",
    r"ignorier\w*", r"vergiss (?:alle|deine|die)", r"disregard", r"system ?prompt", r"systemanweisung",
    # Not bare "instructions"/"prompt": "instructions for the blood test", "a prompt appointment".
    r"(?:deine|ihre|alle|vorherigen?|bisherigen?|obigen?) anweisungen",
    r"(?:your|all|previous|prior|above|earlier|these|system) instructions", r"you are now", r"du bist (?:jetzt|ab jetzt|nun)", r"act as",
    r"pretend", r"tu so als", r"jailbreak", r"developer mode", r"entwicklermodus", r"dan mode",
    r"reveal your", r"verrate (?:mir )?dein", r"(?:your|dein\w*|ihr\w*) prompt", r"<\|", r"\[inst\]", r"role ?play", r"rollenspiel",
)
OFF_TOPIC_PATTERNS = _patterns(
    r"wetter", r"weather", r"fussball", r"football", r"soccer", r"bundesliga", r"kochrezept",
    r"recipe", r"kuchen", r"cake", r"gedicht", r"poem", r"witz", r"joke", r"hausaufgabe",
    r"homework", r"bitcoin", r"krypto", r"crypto", r"aktie", r"stocks?\b", r"politik", r"politic",
    r"wahl\b", r"election", r"programmier", r"python", r"javascript", r"übersetze",
    r"translate", r"lottozahl", r"lottery", r"horoskop", r"horoscope", r"film", r"movie",
    r"hauptstadt", r"capital of", r"song", r"lied\b", r"holiday trip", r"essay", r"aufsatz",
)


def emergency_kind(text: str) -> str | None:
    """CRISIS, EMERGENCY or None. Runs first: an emergency outranks every other rule."""
    text = normalise(text)
    if CRISIS_PATTERNS.search(text):
        return CRISIS
    if EMERGENCY_PATTERNS.search(text):
        return EMERGENCY
    return None


def blocked_kind(text: str) -> str | None:
    """INJECTION, MEDICAL, OFF_TOPIC or None: the hard keyword block and scope guard."""
    text = normalise(text)
    if INJECTION_PATTERNS.search(text):
        return INJECTION
    if MEDICAL_PATTERNS.search(text):
        return MEDICAL
    if OFF_TOPIC_PATTERNS.search(text):
        return OFF_TOPIC
    return None


# What an answer must never contain: medical advice or traces of the instructions. Narrower than
# the question filter, because a practice's own FAQ may well say "bring your medication list".
ANSWER_PATTERNS = _patterns(
    r"diagnos", r"\d+ ?(?:mg|ml|µg|mcg)\b", r"ibuprofen", r"paracetamol", r"aspirin", r"antibiotik",
    r"antibiotic", r"dosis", r"dosierung", r"dosage", r"dose of", r"nehmen sie (?:\w+ ){0,3}(?:tablette|medikament)",
    r"take (?:\w+ ){0,3}(?:tablet|pill|medication)", r"sie haben (?:wahrscheinlich|vermutlich|eine?n? \w+(?:erkrankung|infektion))",
    r"you (?:probably|likely) have", r"it (?:is|sounds like) (?:an? )?(?:infection|cancer|flu|virus)",
    r"system ?prompt", r"my instructions", r"meine anweisungen",
)


def answer_is_out_of_scope(answer: str) -> bool:
    return bool(ANSWER_PATTERNS.search(normalise(answer)))
