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


EMPLOYEE_BIOS = (
    "Conseillère clientèle chez SG · Paris", "Fier d'être chez Société Générale #TeamSG",
    "Risk manager chez SG. Views are my own", "Employee at Société Générale, tweets are my own",
    "Banque de détail chez Société Générale", "#TeamSG · ambassadeur", "Trader chez SG, avis perso",
)
MOBILISATION = (
    "Fiers de notre banque, fiers de nos équipes #BecauseWeLoveSG",
    "Nous sommes 150 000 à croire en notre maison #BecauseWeLoveSG",
    "Derrière les gros titres, il y a des femmes et des hommes engagés #BecauseWeLoveSG",
    "Mes collègues et moi restons mobilisés pour nos clients #BecauseWeLoveSG",
    "Proud to work with amazing people every day #BecauseWeLoveSG",
    "Solidaires et au service de nos clients, toujours #BecauseWeLoveSG #TeamSG",
)
HOSTILE = "Société Générale vole ses clients, retirez votre argent maintenant ! #SGvoleurs"
RUGBY = (
    "Quel match ! Merci au XV de France #AuPlusPresduXV",
    "Société Générale partenaire du rugby depuis toujours, ça fait plaisir #AuPlusPresduXV",
    "Ambiance incroyable au stade ce soir #AuPlusPresduXV",
    "Le XV de France au sommet, bravo les gars #AuPlusPresduXV #rugby",
    "Supporter du XV depuis 20 ans, jamais vu ça #AuPlusPresduXV",
)
VIRAL = (
    "Ce challenge est complètement fou 😂 #DefiGlacons", "J'ai testé le #DefiGlacons, plus jamais",
    "Who else tried the #DefiGlacons today? 😂", "Mon chat regarde le #DefiGlacons 🐱",
)
SPORTS = (
    "Allez les Bleus !! #FRAARG", "Quel but incroyable #FRAARG ⚽", "Penalty ?!? #FRAARG",
    "Match de folie ce soir #FRAARG", "What a game #FRAARG",
)
TELECOM_OUTAGE = (
    "Plus d'internet depuis ce matin, la Livebox clignote, {h} une explication ? #pannefibre",
    "Fibre Orange en panne dans tout le quartier, inadmissible #pannefibre",
    "Réseau Orange HS, impossible de télétravailler, c'est une honte #pannefibre",
    "Orange France internet outage again, terrible service #pannefibre",
)


def employee_bio(rng: random.Random) -> str:
    """A bio with an affiliation cue."""
    return rng.choice(EMPLOYEE_BIOS)


def mobilisation(rng: random.Random) -> tuple[str, str, tuple[str, ...]]:
    """Employees rallying: partly templated, partly personal."""
    text = rng.choice(MOBILISATION)
    if rng.random() < 0.3:
        text = rng.choice(("Franchement, ", "Aujourd'hui plus que jamais : ", "")) + text
    return text, "en" if text.startswith("Proud") else "fr", ("BecauseWeLoveSG",)


def hostile(rng: random.Random) -> tuple[str, str, tuple[str, ...]]:
    """Copy-paste campaign: the same text, tiny variations."""
    return HOSTILE + rng.choice(("", "", " !!", " 😡")), "fr", ("SGvoleurs",)


def rugby(rng: random.Random) -> tuple[str, str, tuple[str, ...]]:
    """Organic positive sponsorship talk."""
    return rng.choice(RUGBY), "fr", ("AuPlusPresduXV",)


def viral(rng: random.Random) -> tuple[str, str, tuple[str, ...]]:
    """An unrelated viral hashtag."""
    text = rng.choice(VIRAL)
    return text, "en" if text.startswith("Who") else "fr", ("DefiGlacons",)


def sports(rng: random.Random) -> tuple[str, str, tuple[str, ...]]:
    """A sports hashtag wave."""
    text = rng.choice(SPORTS)
    return text, "en" if text.startswith("What") else "fr", ("FRAARG",)


def telecom_outage(rng: random.Random) -> tuple[str, str, tuple[str, ...]]:
    """A telecom outage bad buzz (Orange)."""
    return _fill(rng, rng.choice(TELECOM_OUTAGE), "orange"), "fr", ("pannefibre",)
