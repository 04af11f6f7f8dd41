"""Labelled data: loading, cleaning, the demo corpus, splits and hashes.

Start with :func:`load_labelled_corpus`; it accepts ``"demo"``, ``"hf:NAME"``,
a collection folder or a pairs file and returns a :class:`LabelledCorpus`.
"""

from heysh.data.cleaning import CleanedTexts, clean_texts
from heysh.data.collections import load_collection
from heysh.data.corpus import DomainInfo, LabelledCorpus
from heysh.data.demo import generate_demo_corpus
from heysh.data.files import load_pairs_file
from heysh.data.hashing import corpus_content_hash
from heysh.data.hub import load_hub_dataset
from heysh.data.loading import load_labelled_corpus, subset_corpus, to_pairs_dataset
from heysh.data.splits import assign_corpus_splits, assign_splits
from heysh.data.validation import validate_corpus

__all__ = [
    "CleanedTexts",
    "DomainInfo",
    "LabelledCorpus",
    "assign_corpus_splits",
    "assign_splits",
    "clean_texts",
    "corpus_content_hash",
    "generate_demo_corpus",
    "load_collection",
    "load_hub_dataset",
    "load_labelled_corpus",
    "load_pairs_file",
    "subset_corpus",
    "to_pairs_dataset",
    "validate_corpus",
]
