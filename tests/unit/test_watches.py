"""Unit tests for streams.watches: config loading/validation and the one-pass matcher."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from streams.watches.index import PhraseTrie
from streams.watches.matcher import Watch, WatchConfigError, WatchMatcher, load_watches

DEFAULT_WATCHES = Path(__file__).resolve().parents[2] / "streams" / "data" / "watches.toml"

SOCGEN = Watch(
    id="socgen",
    name="Société Générale",
    keywords=("Société Générale", "SocGen", "SG"),
    hashtags=("SocieteGenerale", "BecauseWeLoveSG"),
    handles=("SocieteGenerale", "SG_Presse"),
    owned_accounts=("SocieteGenerale", "SG_Presse"),
    exclude=("Singapore", "Singapour", "Changi Airport"),
    timezone="Europe/Paris",
)
SNCF = Watch(
    id="sncf",
    name="SNCF",
    keywords=("SNCF", "grève des cheminots", "TGV"),
    hashtags=("GreveSNCF",),
    handles=("SNCFVoyageurs",),
)
ORANGE = Watch(
    id="orange",
    name="Orange",
    keywords=("Orange France", "Livebox"),
    languages=("fr", "en"),
)


@pytest.fixture(scope="module")
def matcher() -> WatchMatcher:
    return WatchMatcher([SOCGEN, SNCF, ORANGE])


@pytest.mark.parametrize(
    "text",
    [
        "Panne chez Société Générale ce matin",
        "panne chez societe generale ce matin",
        "PANNE CHEZ SOCIETE GÉNÉRALE",
        "la Société-Générale encore",
        "j'aime pas socgen",
        "J'AIME PAS SOCGÉN",
        "l'appli SG est en panne",
    ],
)
def test_keywords_and_phrases_ignore_case_and_accents(matcher: WatchMatcher, text: str) -> None:
    assert matcher.match(text) == ("socgen",)


@pytest.mark.parametrize("tag", ["#BecauseWeLoveSG", "#becauseweloveSG", "#BECAUSEWELOVESG"])
def test_hashtags_ignore_case(matcher: WatchMatcher, tag: str) -> None:
    assert matcher.match(f"fiers {tag} !") == ("socgen",)
    assert matcher.match("fiers !", hashtags=[tag]) == ("socgen",)


@pytest.mark.parametrize("text", ["sgt Pepper", "SGBD et SQL", "les sociétés générales", "gsg"])
def test_keywords_match_whole_tokens_only(matcher: WatchMatcher, text: str) -> None:
    assert matcher.match(text) == ()


def test_phrase_needs_consecutive_tokens(matcher: WatchMatcher) -> None:
    assert matcher.match("la société est générale") == ()
    assert matcher.match("générale société") == ()


@pytest.mark.parametrize("tag", ["#SocieteGenerale", "#SociétéGénérale", "#societe_generale"])
def test_phrase_matches_joined_hashtag(matcher: WatchMatcher, tag: str) -> None:
    assert matcher.match(f"bravo {tag}") == ("socgen",)


def test_phrase_keyword_as_hashtag_without_explicit_hashtag() -> None:
    only_keyword = WatchMatcher([Watch(id="sncf", name="SNCF", keywords=("grève des cheminots",))])
    assert only_keyword.match("ça continue #GreveDesCheminots") == ("sncf",)
    assert only_keyword.match("ça continue", hashtags=["grève_des_cheminots"]) == ("sncf",)
    assert only_keyword.match("ça continue #GreveDes") == ()


def test_exclude_vetoes_keyword_match(matcher: WatchMatcher) -> None:
    assert matcher.match("SG is hot today") == ("socgen",)
    assert matcher.match("SG is hot today, Singapore is humid") == ()
    assert matcher.match("Vol SG via Changi Airport") == ()
    # Only the whole exclude phrase vetoes.
    assert matcher.match("Vol SG via Changi") == ("socgen",)


def test_exclude_does_not_veto_explicit_signals(matcher: WatchMatcher) -> None:
    assert matcher.match("@SocieteGenerale opens in Singapore") == ("socgen",)
    assert matcher.match("#BecauseWeLoveSG from Singapore") == ("socgen",)
    assert matcher.match("SG office in Singapore", author_handle="SG_Presse") == ("socgen",)


def test_exclude_only_vetoes_its_own_watch(matcher: WatchMatcher) -> None:
    assert matcher.match("SG et SNCF à Singapore") == ("sncf",)


def test_language_filter(matcher: WatchMatcher) -> None:
    text = "Ma Livebox ne marche plus"
    assert matcher.match(text) == ("orange",)
    assert matcher.match(text, lang="fr") == ("orange",)
    assert matcher.match(text, lang="fr-FR") == ("orange",)
    assert matcher.match(text, lang="EN") == ("orange",)
    assert matcher.match(text, lang="de") == ()
    # Watches without a language list are not filtered.
    assert matcher.match("SNCF en retard", lang="de") == ("sncf",)


def test_post_matching_several_watches_returns_all_sorted(matcher: WatchMatcher) -> None:
    text = "Grève des cheminots : ma Livebox et l'appli SocGen en panne aussi"
    assert matcher.match(text) == ("orange", "sncf", "socgen")


def test_owned_account_author_matches(matcher: WatchMatcher) -> None:
    assert matcher.match("Bonne journée à tous", author_handle="SG_Presse") == ("socgen",)
    assert matcher.match("Bonne journée à tous", author_handle="@sg_presse") == ("socgen",)
    assert matcher.match("Bonne journée à tous", author_handle="someone") == ()
    # A handle in `handles` only counts when mentioned, not as author.
    assert matcher.match("Bonne journée", author_handle="SNCFVoyageurs") == ()


def test_mentions_from_caller_or_text(matcher: WatchMatcher) -> None:
    assert matcher.match("merci @sncfvoyageurs") == ("sncf",)
    assert matcher.match("merci", mentions=["@SNCFVoyageurs"]) == ("sncf",)
    assert matcher.match("merci", mentions=["SNCFVoyageurs"]) == ("sncf",)
    assert matcher.match("mail: contact@sncfvoyageurs") == ()


def test_caller_hashtags_win_over_text(matcher: WatchMatcher) -> None:
    assert matcher.match("#BecauseWeLoveSG") == ("socgen",)
    assert matcher.match("#BecauseWeLoveSG", hashtags=["autre"]) == ()


def test_urls_are_not_matched(matcher: WatchMatcher) -> None:
    assert matcher.match("lien https://example.com/sg/#SocieteGenerale?q=sncf") == ()


def test_no_watches_match_nothing() -> None:
    assert WatchMatcher([]).match("Société Générale") == ()


def test_watch_lookup(matcher: WatchMatcher) -> None:
    assert matcher.watch("sncf") is SNCF
    assert [w.id for w in matcher.watches] == ["orange", "sncf", "socgen"]
    with pytest.raises(KeyError):
        matcher.watch("nope")


def test_many_watches_each_matches_only_its_own() -> None:
    watches = [
        Watch(id=f"w{i:04d}", name=f"W{i}", keywords=(f"brand{i}", f"produit {i} pro"))
        for i in range(1000)
    ]
    many = WatchMatcher(watches)
    assert many.match("j'adore brand500 et brand7") == ("w0007", "w0500")
    assert many.match("le produit 42 pro") == ("w0042",)
    assert many.match("le produit 42") == ()


def test_shared_phrase_prefixes_and_repeated_first_tokens() -> None:
    watches = [
        Watch(id="a", name="A", keywords=("service client alpha",)),
        Watch(id="b", name="B", keywords=("service client beta", "service")),
        Watch(id="c", name="C", keywords=("service client",)),
    ]
    shared = WatchMatcher(watches)
    assert shared.match("le service client beta") == ("b", "c")
    assert shared.match("service, service client alpha") == ("a", "b", "c")
    assert shared.match("client alpha service") == ("b",)


_VOCAB = ["a", "b", "c", "d"]


@given(
    st.lists(st.lists(st.sampled_from(_VOCAB), min_size=1, max_size=3), max_size=8),
    st.lists(st.sampled_from(_VOCAB), max_size=15),
)
def test_phrase_trie_equals_naive_scan(phrases: list[list[str]], toks: list[str]) -> None:
    trie = PhraseTrie((tuple(p), i) for i, p in enumerate(phrases))
    found: set[int] = set()
    trie.add_hits(toks, found)
    expected = {
        i
        for i, p in enumerate(phrases)
        if any(toks[s : s + len(p)] == p for s in range(len(toks) - len(p) + 1))
    }
    assert found == expected


# --- Hypothesis properties -------------------------------------------------------------------

_WORDS = [
    "société", "générale", "grève", "des", "cheminots", "élève", "crédit", "café", "hôtel",
    "sg", "sgt", "sncf", "tgv", "orange", "france", "livebox", "singapore", "noël", "à", "où",
    "ça", "déçu", "panne", "#sociétégénérale", "#becauselovesg", "@sg_presse", "l'appli",
]  # fmt: skip
_CASINGS = [str.lower, str.upper, str.title, str.capitalize]

_words = st.lists(
    st.tuples(st.sampled_from(_WORDS), st.sampled_from(_CASINGS)).map(lambda wc: wc[1](wc[0])),
    min_size=1,
    max_size=12,
).map(" ".join)


def _strip_accents(text: str) -> str:
    # Independent of fold(): NFD then drop every combining mark.
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


@given(_words)
@example("Grève des cheminots chez Société Générale")
def test_accents_do_not_change_matches(text: str) -> None:
    matcher = WatchMatcher([SOCGEN, SNCF, ORANGE])
    stripped = _strip_accents(text)
    assert stripped.isascii()
    assert matcher.match(stripped) == matcher.match(text)


@given(_words)
@example("grève des cheminots chez société générale")
def test_casing_does_not_change_matches(text: str) -> None:
    matcher = WatchMatcher([SOCGEN, SNCF, ORANGE])
    expected = matcher.match(text)
    assert matcher.match(text.upper()) == expected
    assert matcher.match(text.lower()) == expected
    assert matcher.match(text.title()) == expected


def test_property_examples_do_match() -> None:
    # Guards the properties above against vacuously comparing () with ().
    matcher = WatchMatcher([SOCGEN, SNCF, ORANGE])
    assert matcher.match("GREVE DES CHEMINOTS CHEZ SOCIETE GENERALE") == ("sncf", "socgen")


# --- Config loading and validation -----------------------------------------------------------


def test_default_watches_load() -> None:
    watches = load_watches(DEFAULT_WATCHES)
    by_id = {w.id: w for w in watches}
    assert {"socgen", "bnp", "orange", "sncf"} <= set(by_id)
    socgen = by_id["socgen"]
    assert socgen.timezone == "Europe/Paris"
    assert "BecauseWeLoveSG" in socgen.hashtags
    assert "SG_Presse" in socgen.owned_accounts
    assert "lesechos" in socgen.influencers
    assert "#TeamSG" in socgen.bio_cues
    matcher = WatchMatcher(watches)
    assert matcher.match("Encore une panne chez SOCIÉTÉ GÉNÉRALE") == ("socgen",)
    assert matcher.match("Vol SG depuis Singapour") == ()


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "watches.toml"
    path.write_text(body, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('[[watch]]\nid = "a"\nname = "A"\nkeywords = ["x"]\n' * 2, "'a': duplicate id"),
        ('[[watch]]\nid = "Bad Id"\nname = "A"\nkeywords = ["x"]\n', "'Bad Id': id must match"),
        ('[[watch]]\nid = "a"\nname = "A"\n', "'a': needs at least one match term"),
        ('[[watch]]\nid = "a"\nname = "A"\nkeyword = ["x"]\n', "'a': unknown keys ['keyword']"),
        ('[[watch]]\nid = "a"\nkeywords = ["x"]\n', "'a': missing required key 'name'"),
        ('[[watch]]\nid = "a"\nname = "A"\nkeywords = "x"\n', "'a': keywords must be a list"),
        ('[[watch]]\nid = "a"\nname = "A"\nkeywords = ["!!"]\n', "'a': keywords entry '!!'"),
        ('[[watch]]\nid = "a"\nname = "A"\nkeywords = [1]\n', "'a': keywords must be a list"),
        ('[[watch]]\nid = "a"\nname = "A"\nhashtags = ["two words"]\n', "'a': hashtags entry"),
        (
            '[[watch]]\nid = "a"\nname = "A"\nkeywords = ["x"]\ntimezone = "Mars/Base"\n',
            "'a': unknown timezone 'Mars/Base'",
        ),
        (
            '[[watch]]\nid = "a"\nname = "A"\nkeywords = ["x"]\nlanguages = ["french"]\n',
            "'a': languages entry 'french'",
        ),
        ("title = 'nothing'\n", "expected at least one [[watch]] table"),
        ("[[watch]\n", "invalid TOML"),
    ],
)
def test_config_validation_errors(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(WatchConfigError) as info:
        load_watches(_write(tmp_path, body))
    assert message in str(info.value)


def test_loader_strips_prefixes_and_lowercases_languages(tmp_path: Path) -> None:
    body = '[[watch]]\nid = "a"\nname = "A"\nhashtags = ["#Tag"]\nhandles = ["@Who"]\n'
    body += 'languages = ["FR"]\n'
    (watch,) = load_watches(_write(tmp_path, body))
    assert watch.hashtags == ("Tag",)
    assert watch.handles == ("Who",)
    assert watch.languages == ("fr",)


def test_matcher_rejects_duplicate_ids() -> None:
    with pytest.raises(WatchConfigError, match="'sncf': duplicate id"):
        WatchMatcher([SNCF, SNCF])


def test_matcher_is_immutable(matcher: WatchMatcher) -> None:
    with pytest.raises(AttributeError):
        setattr(matcher, "_watches", ())  # noqa: B010
