"""Compile the EN/FR sentiment lexicons into streams/data/sentiment/lexicon.json.

Development-time only: needs `pip install vaderSentiment vaderSentiment-fr textblob textblob-fr`.
Sources and licences are listed in streams/data/sentiment/SOURCES.md.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import re
import sys
import unicodedata
import xml.etree.ElementTree as ET

OUT = os.path.join(
    os.path.dirname(__file__), "..", "..", "streams", "data", "sentiment", "lexicon.json"
)
PATTERN_SCALE = 2.5  # Pattern polarity is in [-1, 1]; VADER valence in [-4, 4]

# Hand-written additions for brand monitoring / social media (our own data, Apache-2.0).
EXTRA_EN = {
    "boycott": -2.0, "scam": -2.7, "scammers": -2.7, "ripoff": -2.5, "rip-off": -2.5,
    "lawsuit": -1.5, "recall": -0.8, "outage": -1.8, "refund": -0.8, "rude": -2.0, "worst":
    -3.1, "fail": -2.5, "epicfail": -3.0, "broken": -1.8, "scandal": -2.2, "disgrace": -2.5,
    "shameful": -2.5, "unacceptable": -2.3, "delay": -1.0, "delayed": -1.2, "cancelled": -1.0,
    "canceled": -1.0, "hacked": -2.0, "leak": -1.2, "layoffs": -2.0, "lmao": 2.0, "lmfao":
    2.0, "yay": 2.4, "woohoo": 2.3, "congrats": 2.4, "thx": 1.5, "thanks": 1.9, "excited":
    2.2, "rip": -1.5,
}
EXTRA_FR = {
    "boycott": -2.0, "boycotter": -2.0, "boycottez": -2.0, "scandale": -2.4, "scandaleux":
    -2.6, "scandaleuse": -2.6, "honte": -2.3, "honteux": -2.5, "honteuse": -2.5, "arnaque":
    -2.7, "arnaqueur": -2.7, "arnaqueurs": -2.7, "nul": -2.0, "nulle": -2.0, "nuls": -2.0,
    "nulles": -2.0, "naze": -2.0, "pourri": -2.3, "pourrie": -2.3, "bof": -1.0, "fail": -2.5,
    "inadmissible": -2.5, "inacceptable": -2.5, "catastrophique": -3.0, "lamentable": -2.6,
    "déçu": -2.0, "déçue": -2.0, "déçus": -2.0, "décevant": -2.0, "décevante": -2.0,
    "déception": -2.0, "dégoûté": -2.2, "dégoûtée": -2.2, "marre": -2.0, "panne": -1.8,
    "grève": -1.0, "pollution": -1.5, "polluant": -1.5, "polluante": -1.5, "menace": -1.5,
    "menacé": -1.5, "menacée": -1.5, "danger": -2.0, "dangereux": -2.2, "adore": 3.0,
    "adorer": 3.0, "aime": 2.5, "aimer": 2.5, "génial": 3.0, "géniale": 3.0,
    "top": 2.0, "bravo": 2.6, "merci": 1.8, "super": 2.2, "excellent": 3.0, "excellente": 3.0,
    "parfait": 2.8, "parfaite": 2.8, "magnifique": 3.0, "mdr": 2.0, "ptdr": 2.0, "lol": 1.8,
    "chouette": 2.2, "cool": 1.8, "heureux": 2.6, "heureuse": 2.6, "content": 2.2, "contente":
    2.2, "félicitations": 2.8, "bonne": 1.5, "bon": 1.4, "réussite": 2.2, "succès": 2.2,
    "innovant": 1.5, "innovante": 1.5, "prometteur": 1.8, "prometteuse": 1.8, "encourageant":
    1.8, "progrès": 1.5, "vive": 1.8, "fier": 2.0, "fière": 2.0, "pire": -2.6, "mauvais":
    -2.2, "mauvaise": -2.2, "horrible": -3.0,
}
EMOJI_KINDS = re.compile(r"face|heart|thumbs|hands|smil|grin|kiss|tear|cry|frown|pout")
NEGATORS_FR = (  # noqa: SIM905 (a word list reads better as text)
    "pas jamais rien aucun aucune aucunement nullement sans ni personne guère"
).split()
NE_FR = ["ne", "n'"]
CONTRAST = {
    "en": ["but", "however", "although", "though", "yet"],
    "fr": ["mais", "pourtant", "cependant", "toutefois", "néanmoins"],
}
STOP_EN = (  # noqa: SIM905 (a word list reads better as text)
    "the a an and or is are was were be been to of in on for with at by this that it i you he "
    "she we they my your his her our their me him them what who how why when not no do does did "
    "have has had will would can could should just so if about from as up out all get got like "
    "one more than there here its it's i'm don't"
).split()
STOP_FR = (  # noqa: SIM905 (a word list reads better as text)
    "le la les un une des du de et ou est sont était être à au aux en dans sur pour par avec ce "
    "cet cette ces il elle ils elles nous vous je tu on mon ma mes ton ta tes son sa ses notre "
    "votre leur leurs qui que quoi ne pas plus mais donc car si comme tout très aussi bien fait "
    "faire c'est l' d' j' n' qu' c' s' m' t' été avoir ont peut sont cela ça"
).split()


def _fold(s: str) -> str:
    s = s.lower().replace("’", "'")
    return "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c))


def _pkg_dir(name: str) -> str:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        sys.exit(f"{name} is not installed: pip install the packages named in this docstring")
    return next(iter(spec.submodule_search_locations))


def _read_vader(path: str, sep: str = "\t") -> dict[str, float]:
    out: dict[str, float] = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            if sep == "->":
                w, _, v = line.rstrip("\n").rpartition("->")
            else:
                w, v = line.split("\t")[:2]
            try:
                out[w.strip()] = float(v)
            except ValueError:
                continue
    return out


def _read_pattern(path: str) -> dict[str, float]:
    acc: dict[str, list[float]] = {}
    for el in ET.parse(path).getroot().iter("word"):
        form, pol = el.get("form"), el.get("polarity")
        if form and pol is not None:
            acc.setdefault(form, []).append(float(pol))
    return {w: sum(v) / len(v) for w, v in acc.items()}


def _merge(
    vader: dict[str, float], pattern: dict[str, float], extra: dict[str, float], prefer_vader: bool
) -> dict[str, float]:
    out: dict[str, list[float]] = {}
    for w, v in vader.items():
        out.setdefault(_fold(w), []).append(v)
    for w, p in pattern.items():
        if prefer_vader and _fold(w) in out:
            continue  # English VADER ratings were made for tweets; Pattern's for reviews
        if abs(p) >= 0.1:
            out.setdefault(_fold(w), []).append(p * PATTERN_SCALE)
    merged = {w: round(sum(v) / len(v), 3) for w, v in out.items()}
    for w, v in extra.items():
        merged[_fold(w)] = v
    return {w: v for w, v in merged.items() if v and " " not in w}


def _emoji_valence(vader_dir: str) -> dict[str, float]:
    vader_lex = _read_vader(os.path.join(vader_dir, "vader_lexicon.txt"))
    out: dict[str, float] = {}
    with open(os.path.join(vader_dir, "emoji_utf8_lexicon.txt"), encoding="utf-8") as f:
        for line in f:
            emo, _, desc = line.rstrip("\n").partition("\t")
            if not EMOJI_KINDS.search(desc):
                continue  # objects and symbols ("alarm clock", "cancer") carry no opinion
            vals = [vader_lex[w] for w in re.findall(r"[a-z']+", desc.lower()) if w in vader_lex]
            if vals and len(emo) == 1:
                out[emo] = round(max(vals, key=abs) * 0.9, 3)
    # hearts and thumbs are frequent and unambiguous in brand talk
    out.update(
        {
            "❤": 3.0,
            "♥": 3.0,
            "👍": 2.0,
            "👎": -2.0,
            "😡": -3.0,
            "🤬": -3.2,
            "🙄": -1.5,
            "😒": -1.8,
            "💩": -2.2,
            "🤮": -2.8,
            "😭": -1.5,
            "😂": 1.5,
            "🤣": 1.6,
            "👏": 2.0,
            "🔥": 1.2,
            "💯": 1.8,
            "🙏": 1.2,
            "😱": -1.5,
            "😤": -2.0,
        }
    )
    return out


def _boosters(mod_path: str) -> tuple[dict[str, float], list[str]]:
    """Read VADER's BOOSTER_DICT and NEGATE constants without importing the module."""
    with open(mod_path, encoding="utf-8") as f:
        src = f.read()
    ns: dict[str, object] = {}
    for node in ast.parse(src).body:
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.targets[0], ast.Name)
            and node.targets[0].id in ("B_INCR", "B_DECR", "BOOSTER_DICT", "NEGATE")
        ):
            ns[node.targets[0].id] = eval(ast.get_source_segment(src, node.value) or "", ns)
    booster = ns["BOOSTER_DICT"]
    negate = ns["NEGATE"]
    assert isinstance(booster, dict) and isinstance(negate, list)
    boost = {_fold(k): float(v) for k, v in booster.items() if " " not in k}
    return boost, [_fold(w) for w in negate]


def main() -> None:
    vd, vfd = _pkg_dir("vaderSentiment"), _pkg_dir("vaderSentiment_fr")
    tb, tbf = _pkg_dir("textblob"), _pkg_dir("textblob_fr")
    en = _merge(
        _read_vader(os.path.join(vd, "vader_lexicon.txt")),
        _read_pattern(os.path.join(tb, "en", "en-sentiment.xml")),
        EXTRA_EN,
        True,
    )
    fr = _merge(
        _read_vader(os.path.join(vfd, "fr_lexicon.txt"), sep="->"),
        _read_pattern(os.path.join(tbf, "fr-sentiment.xml")),
        EXTRA_FR,
        False,
    )
    boost_en, neg_en = _boosters(os.path.join(vd, "vaderSentiment.py"))
    boost_fr, _ = _boosters(os.path.join(vfd, "vaderSentiment.py"))
    emoticons = {
        w: v
        for w, v in _read_vader(os.path.join(vd, "vader_lexicon.txt")).items()
        if not re.search(r"[a-z]{2}", w)
    }
    emoji = _emoji_valence(vd)
    data = {
        "en": {
            "lexicon": en,
            "boosters": boost_en,
            "negators": sorted(set(neg_en)),
            "contrast": CONTRAST["en"],
            "stopwords": STOP_EN,
        },
        "fr": {
            "lexicon": fr,
            "boosters": boost_fr,
            "negators": NEGATORS_FR,
            "ne": NE_FR,
            "contrast": [_fold(w) for w in CONTRAST["fr"]],
            "stopwords": STOP_FR,
        },
        "emoji": emoji,
        "emoticons": emoticons,
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    print(f"wrote {OUT}: en={len(en)} fr={len(fr)} emoji={len(emoji)}")


if __name__ == "__main__":
    main()
