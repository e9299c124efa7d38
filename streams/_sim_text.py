"""Text material of the scenario simulator (French and English posts)."""

from __future__ import annotations

import random

BRANDS = {
    "socgen": ("Société Générale", "SocGen", "@SocieteGenerale", "#SocieteGenerale"),
    "bnp": ("BNP Paribas", "BNP", "@BNPParibas", "#BNPParibas"),
    "orange": ("Orange France", "l'opérateur Orange", "@orange", "#OrangeFrance"),
    "sncf": ("SNCF", "la SNCF", "@SNCF", "#SNCF"),
}
CHATTER_FR = (
    "Rendez-vous chez {b} demain pour mon dossier de prêt.",
    "Quelqu'un sait si {b} ouvre le samedi ?",
    "Nouvelle appli {b} plutôt réussie, je dois dire 👍",
    "{b} annonce ses résultats trimestriels ce jeudi.",
    "J'ai enfin reçu ma carte de {b}, merci {h}",
    "Article intéressant sur la stratégie de {b} {t}",
    "Le conseiller {b} a été super efficace aujourd'hui !",
    "Pas convaincu par les nouveaux frais de {b}...",
    "{b} recrute des alternants pour la rentrée {t}",
    "Question pour {h} : comment changer mon plafond de paiement ?",
)
CHATTER_EN = (
    "Just opened an account with {b}, smooth process so far.",
    "{b} quarterly results out on Thursday {t}",
    "Anyone else waiting on a transfer from {b}?",
    "Nice to see {b} sponsoring local events {t}",
    "{h} how do I update my phone number in the app?",
)
NOISE = (
    ("Quel temps magnifique sur Lyon ce matin ☀️", "fr"),
    ("Le match de ce soir va être incroyable #Ligue1", "fr"),
    ("Recette du jour : tarte aux pommes maison 🍎", "fr"),
    ("Bouchons sur le périph, comme d'habitude...", "fr"),
    ("Can't believe how good this new album is #music", "en"),
    ("Monday again. Coffee first.", "en"),
    ("Great talk at the conference today #tech", "en"),
    ("Nouveau record de chaleur annoncé pour cet été", "fr"),
)
OUTAGE_FR = (
    "Impossible de me connecter à l'appli {b} depuis ce matin, c'est une honte ! #SGpanne",
    "{h} vos clients sont bloqués, aucun paiement ne passe. Inadmissible. #SGpanne",
    "Carte refusée partout, {b} ne répond pas. Scandaleux. #SGpanne #scandale",
    "Encore une panne chez {b}, je vais changer de banque #SGpanne",
    "Virement de salaire bloqué par {b}, comment je paie mon loyer ?? #SGpanne",
    "Le service client de {b} est injoignable, c'est nul #SGpanne",
    "RT si vous aussi vous êtes bloqués par {b} aujourd'hui #SGpanne",
    "{b} : des milliers de clients privés de leurs comptes, la banque muette #SGpanne",
)
OUTAGE_EN = (
    "{b} app down for hours, can't pay anything. Terrible. #SGdown",
    "My card keeps getting declined, {h} what is going on?? #SGdown",
    "Worst bank ever, {b} outage again #SGdown #fail",
)
FIRST = ("marie", "julien", "sophie", "thomas", "camille", "nico", "lea", "hugo", "emma",
         "lucas", "chloe", "paul", "ines", "maxime", "sarah", "alex", "manon", "yanis")
BIOS = ("", "", "Passionné de rando et de photo", "Dev web | café | vélo",
        "Maman de deux loulous", "Supporter de l'OM depuis toujours", "Tweets are my own",
        "Étudiant en droit", "Music lover, coffee addict", "Parisienne")


def handle(rng: random.Random, i: int) -> str:
    """A plausible screen name."""
    return f"{rng.choice(FIRST)}_{rng.choice(FIRST)[:3]}{i}"


def bio(rng: random.Random) -> str:
    """A plausible profile bio."""
    return rng.choice(BIOS)


def _fill(rng: random.Random, template: str, watch: str) -> str:
    name, alt, at, tag = BRANDS[watch]
    return template.format(b=rng.choice((name, alt)), h=at, t=tag if rng.random() < 0.4 else "")


def chatter(rng: random.Random, watch: str) -> tuple[str, str, tuple[str, ...]]:
    """Ordinary talk about a watched brand."""
    if rng.random() < 0.75:
        return _fill(rng, rng.choice(CHATTER_FR), watch).strip(), "fr", ()
    return _fill(rng, rng.choice(CHATTER_EN), watch).strip(), "en", ()


def noise(rng: random.Random) -> tuple[str, str, tuple[str, ...]]:
    """Talk about nothing watched."""
    text, lang = rng.choice(NOISE)
    return text, lang, ()


def bank_outage(rng: random.Random) -> tuple[str, str, tuple[str, ...]]:
    """Angry posts of a bank outage bad buzz."""
    if rng.random() < 0.8:
        return _fill(rng, rng.choice(OUTAGE_FR), "socgen"), "fr", ("SGpanne",)
    return _fill(rng, rng.choice(OUTAGE_EN), "socgen"), "en", ("SGdown",)
