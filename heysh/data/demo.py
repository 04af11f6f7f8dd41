"""Generate the heysh demo corpus: a synthetic, labelled, deliberately messy set.

The demo corpus (named ``heysh-demo``) is **invented for demonstrations and
tests**; it is not real data and says nothing about real-world accuracy. It is
generated in about a second from templates written for heysh
(``heysh.data._demo_vocabulary``), so notebooks, CI and first-time users can
run the whole research loop without downloading anything.

Contents, for the default ``docs_per_domain=260``: six domains (four English:
renewable energy, football, machine learning research, public health; two
Swedish: skogsbruk, kollektivtrafik), about 2,500 documents, every document
paired with every domain. Per domain:

* on-topic documents of varied length; about 12% are longer than 400 words and
  half of those open with 200+ words of generic text, so a model that reads
  only the first window misses the topic;
* borderline documents that mix the domain with a neighbouring topic;
* near-duplicates (a number changed, a sentence swapped or added) and one exact
  duplicate;
* hard negatives from neighbouring topics (fossil energy, other sports,
  consumer technology, clinical care, jordbruk, naturvård, bilism) and keyword
  traps that use the domain's words in another sense ("political football",
  "kollektivavtal");

plus off-topic documents in both languages and a few messy ones (empty, HTML
entities and tags, Latin-1 bytes, control characters), so every count of the
cleaning report is exercised.

Labelling rule: a document's *primary* topic is the one that supplies most of
its topical sentences (more than half). It is relevant to a domain exactly when
its primary topic is that domain. It is a hard negative for a domain when it
is not relevant and the domain supplies some of its sentences, its primary
topic is a neighbour of the domain, or it is a keyword trap for the domain.
"""

from __future__ import annotations

import logging
import random
import re
import time
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from heysh.data._build import assemble_corpus, full_pair_grid, model_text
from heysh.data._demo_vocabulary import (
    DOMAINS,
    FILLER,
    GENERIC_SLOTS,
    MIXING_PARTNERS,
    NEIGHBOURS,
    TOPICS,
)
from heysh.data.cleaning import clean_texts
from heysh.data.corpus import DomainInfo, LabelledCorpus

_logger = logging.getLogger(__name__)

DEMO_NAME = "heysh-demo"
_SLOT = re.compile(r"\{(\w+)\}")
_NUMBER = re.compile(r"\d+")
_WORD = re.compile(r"\S+")


@dataclass(frozen=True)
class DemoDocument:
    """One generated document and how it was made (for tests and inspection).

    Attributes:
        title: Headline, or None.
        body: The text as handed to cleaning; bytes for the Latin-1 documents.
        language: ``en`` or ``sv``.
        primary: Topic key that supplies most topical sentences; ``""`` for an
            empty document.
        secondary: Topic keys that supply the minority of sentences.
        kind: ``on_topic``, ``long``, ``buried``, ``borderline``,
            ``near_duplicate``, ``exact_duplicate``, ``neighbour``,
            ``neighbour_borderline``, ``trap``, ``off_topic`` or ``empty``.
    """

    title: str | None
    body: str | bytes
    language: str
    primary: str
    secondary: tuple[str, ...] = ()
    kind: str = "on_topic"


def generate_demo_corpus(seed: int = 0, docs_per_domain: int = 260) -> LabelledCorpus:
    """Generate the synthetic heysh demo corpus (see the module docstring).

    Args:
        seed: Seed of the generator; the same seed gives the same corpus.
        docs_per_domain: Relevant documents per domain. The default gives about
            2,500 documents and over 200 relevant documents per domain, enough
            to certify 5% error targets at 95% confidence on a 40/30/30 split
            with a good model. Small values (e.g. 20) give a quick toy corpus.

    Returns:
        The corpus named ``heysh-demo`` with source ``demo:seed=<seed>``.
    """
    started = time.perf_counter()
    documents = generate_demo_documents(seed=seed, docs_per_domain=docs_per_domain)
    doc_ids = [f"{DEMO_NAME}:{i:05d}" for i in range(len(documents))]
    cleaned = clean_texts(
        doc_ids,
        [
            doc.body if isinstance(doc.body, bytes) else model_text(doc.title, doc.body)
            for doc in documents
        ],
    )
    domains = [
        DomainInfo(f"{DEMO_NAME}:{key}", name, description, language)
        for key, name, description, language in DOMAINS
    ]

    relevant = np.zeros((len(documents), len(domains)), dtype=np.int64)
    hard = np.zeros((len(documents), len(domains)), dtype=bool)
    for i, doc in enumerate(documents):
        for k, (key, *_) in enumerate(DOMAINS):
            relevant[i, k] = doc.primary == key
            hard[i, k] = doc.primary != key and (
                key in doc.secondary
                or doc.primary in NEIGHBOURS[key]
                or doc.primary == f"trap-{key}"
            )
    pair_doc, pair_domain = full_pair_grid(cleaned.keep_mask, len(domains))
    corpus = assemble_corpus(
        name=DEMO_NAME,
        source=f"demo:seed={seed}",
        doc_ids=doc_ids,
        cleaned=cleaned,
        languages=[doc.language for doc in documents],
        domains=domains,
        pair_doc=pair_doc,
        pair_domain=pair_domain,
        pair_label=relevant[pair_doc, pair_domain],
        pair_grade=relevant[pair_doc, pair_domain],
        pair_hard_negative=hard[pair_doc, pair_domain],
        extra_report={
            "pairs_excluded_unusable_text": int((~cleaned.keep_mask).sum())
            * len(domains)
        },
    )
    _logger.info(
        "demo_corpus_generated",
        extra={
            "seed": seed,
            "documents": corpus.n_docs,
            "pairs": corpus.n_pairs,
            "duration_s": round(time.perf_counter() - started, 3),
        },
    )
    return corpus


def generate_demo_documents(
    *, seed: int = 0, docs_per_domain: int = 260
) -> list[DemoDocument]:
    """Generate the demo documents in their final, shuffled order.

    Args:
        seed: Generator seed.
        docs_per_domain: Relevant documents per domain (at least 1).

    Returns:
        The documents; position ``i`` becomes id ``heysh-demo:<i:05d>``.
    """
    writer = _Writer(random.Random(seed))
    documents: list[DemoDocument] = []
    for key, *_ in DOMAINS:
        documents += writer.domain_documents(key, max(1, docs_per_domain))
    for language in ("en", "sv"):
        documents += writer.off_topic_documents(language, max(1, docs_per_domain // 2))
    documents = writer.make_messy(documents)
    writer.rng.shuffle(documents)
    return documents


class _Writer:
    """Composes documents from the vocabulary with one random generator."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def domain_documents(self, key: str, n_relevant: int) -> list[DemoDocument]:
        """Relevant, neighbour and trap documents of one domain."""
        n_border = round(0.15 * n_relevant)
        n_near = round(0.05 * n_relevant)
        n_exact = 1 if n_relevant >= 20 else 0
        n_pure = n_relevant - n_border - n_near - n_exact
        n_long = round(0.12 * n_relevant)

        pure = [
            self.on_topic(key, long=i < n_long, buried=i < n_long // 2)
            for i in range(n_pure)
        ]
        border = [
            self.mixed(key, self.rng.choice(MIXING_PARTNERS[key]), "borderline")
            for _ in range(n_border)
        ]
        near = [self.near_duplicate(self.rng.choice(pure)) for _ in range(n_near)]
        exact = [replace(pure[0], kind="exact_duplicate") for _ in range(n_exact)]

        negatives = []
        for i in range(round(0.35 * n_relevant)):
            neighbour = NEIGHBOURS[key][i % len(NEIGHBOURS[key])]
            if i % 10 < 3:
                negatives.append(self.mixed(neighbour, key, "neighbour_borderline"))
            else:
                negatives.append(self.plain(neighbour, "neighbour"))
        traps = [
            self.plain(f"trap-{key}", "trap")
            for _ in range(max(1, round(0.05 * n_relevant)))
        ]
        return pure + border + near + exact + negatives + traps

    def off_topic_documents(self, language: str, n_docs: int) -> list[DemoDocument]:
        return [self.plain(f"off-topic-{language}", "off_topic") for _ in range(n_docs)]

    def on_topic(self, key: str, *, long: bool, buried: bool) -> DemoDocument:
        """A document about one domain; long ones run past 400 words."""
        if long:
            n_topical, n_filler = self.rng.randint(30, 38), self.rng.randint(8, 12)
        elif self.rng.random() < 0.35:
            n_topical, n_filler = self.rng.randint(2, 4), self.rng.randint(0, 1)
        else:
            n_topical, n_filler = self.rng.randint(5, 9), self.rng.randint(1, 3)
        sentences = self.sentences(key, n_topical)
        filler = self.filler(TOPICS[key]["lang"], n_filler)
        if buried:
            # Generic text longer than one 160-word window before the topic.
            while _count_words(filler) < 200:
                filler += self.filler(TOPICS[key]["lang"], 1)
            body = filler + sentences
        else:
            body = self.interleave(sentences, filler)
        kind = "buried" if buried else "long" if long else "on_topic"
        return DemoDocument(
            self.title(key), self.paragraphs(body), TOPICS[key]["lang"], key, (), kind
        )

    def mixed(self, primary: str, secondary: str, kind: str) -> DemoDocument:
        """Mostly ``primary`` (53-70% of topical sentences), the rest ``secondary``."""
        n_primary = self.rng.randint(4, 9)
        n_secondary = max(1, round(n_primary * self.rng.uniform(0.5, 0.9)))
        n_secondary = min(n_secondary, n_primary - 1)
        language = TOPICS[primary]["lang"]
        body = self.interleave(
            self.sentences(primary, n_primary),
            self.sentences(secondary, n_secondary) + self.filler(language, 1),
        )
        return DemoDocument(
            self.title(primary),
            self.paragraphs(body),
            language,
            primary,
            (secondary,),
            kind,
        )

    def plain(self, key: str, kind: str) -> DemoDocument:
        """A short or medium document about one non-domain topic."""
        language = TOPICS[key]["lang"]
        body = self.interleave(
            self.sentences(key, self.rng.randint(2, 6)),
            self.filler(language, self.rng.randint(0, 2)),
        )
        return DemoDocument(
            self.title(key), self.paragraphs(body), language, key, (), kind
        )

    def near_duplicate(self, original: DemoDocument) -> DemoDocument:
        """A small edit of ``original``: a number, a sentence or a line changed."""
        body = str(original.body)
        edit = self.rng.randrange(3)
        if edit == 0 and _NUMBER.search(body):
            body = _NUMBER.sub(lambda m: str(int(m.group()) + 1), body, count=1)
        elif edit == 1:
            body = f"{body} {self.sentences(original.primary, 1)[0]}"
        else:
            body = f"{body}\n\n{self.filler(original.language, 1)[0]}"
        return replace(original, body=body, kind="near_duplicate")

    def make_messy(self, documents: list[DemoDocument]) -> list[DemoDocument]:
        """Add empty documents and dirty a few: entities, Latin-1, controls."""
        rng = self.rng
        documents = list(documents)
        english = [
            i
            for i, d in enumerate(documents)
            if d.kind == "on_topic" and d.language == "en"
        ]
        swedish = [
            i
            for i, d in enumerate(documents)
            if d.kind == "on_topic" and d.language == "sv"
        ]
        for i in rng.sample(english, min(12, len(english))):
            doc = documents[i]
            body = "".join(f"<p>{p}</p>\n" for p in str(doc.body).split("\n\n"))
            body = body.replace(" and ", " &amp; ").replace(" - ", " &#8211; ")
            documents[i] = replace(doc, body=f"{body}&nbsp;&copy; heysh demo")
        for i in rng.sample(swedish, min(3, len(swedish))):
            doc = documents[i]
            text = model_text(doc.title, str(doc.body))
            documents[i] = replace(doc, body=text.encode("latin-1"), title=None)
        for i in rng.sample(english + swedish, min(4, len(english + swedish))):
            doc = documents[i]
            if isinstance(doc.body, str):
                documents[i] = replace(doc, body=f"\x07{doc.body}\x1b[0m\x00")
        documents.append(DemoDocument(None, "", "en", "", (), "empty"))
        documents.append(DemoDocument("", " \n\t ", "sv", "", (), "empty"))
        return documents

    def sentences(self, key: str, n: int) -> list[str]:
        """``n`` filled sentences of a topic, without repeats while possible."""
        templates: list[str] = TOPICS[key]["sentences"]
        chosen: list[str] = []
        while len(chosen) < n:
            chosen += self.rng.sample(templates, min(n - len(chosen), len(templates)))
        return [self.fill(t, TOPICS[key]) for t in chosen]

    def filler(self, language: str, n: int) -> list[str]:
        pool = FILLER[language]
        return [
            self.fill(self.rng.choice(pool), {"lang": language, "slots": {}})
            for _ in range(n)
        ]

    def title(self, key: str) -> str | None:
        if self.rng.random() < 0.12:
            return None
        return self.fill(self.rng.choice(TOPICS[key]["headlines"]), TOPICS[key])

    def interleave(self, main: list[str], extra: list[str]) -> list[str]:
        """Insert ``extra`` at random places, keeping ``main`` first."""
        result = list(main)
        for sentence in extra:
            result.insert(self.rng.randint(1, len(result)), sentence)
        return result

    def paragraphs(self, sentences: list[str]) -> str:
        """Join sentences into paragraphs of two to five sentences."""
        paragraphs, start = [], 0
        while start < len(sentences):
            size = self.rng.randint(2, 5)
            paragraphs.append(" ".join(sentences[start : start + size]))
            start += size
        return "\n\n".join(paragraphs)

    def fill(self, template: str, topic: dict[str, Any]) -> str:
        """Replace every ``{slot}``; topic slots first, then generic, then numbers."""
        slots = topic["slots"]
        generic = GENERIC_SLOTS[topic["lang"]]
        rng = self.rng

        def value(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in slots:
                return str(rng.choice(slots[name]))
            if name in generic:
                return rng.choice(generic[name])
            if name == "num":
                return str(rng.randint(2, 900))
            if name == "small":
                return str(rng.randint(2, 9))
            if name == "pct":
                return str(rng.randint(3, 45))
            if name == "year":
                return str(rng.randint(2027, 2040))
            if name == "score":
                winner = rng.randint(1, 4)
                return f"{winner}-{rng.randint(0, winner - 1)}"
            raise KeyError(f"demo template slot {{{name}}} has no values")

        text = _SLOT.sub(value, template)
        return text[0].upper() + text[1:]


def _count_words(sentences: list[str]) -> int:
    return sum(len(_WORD.findall(sentence)) for sentence in sentences)
