"""The corpus: manifest, documents and their parsing into citable passages.

This package knows nothing about indexes, models or HTTP. The data files
(`manifest.json`, the `.md` texts, `SOURCES.md`) live beside this module, so a
fresh clone is self-contained.
"""

from pathlib import Path

from corpus.errors import CorpusError
from corpus.loader import Corpus, load_corpus
from corpus.manifest import DocumentInfo, Manifest, load_manifest
from corpus.passage import Passage
from corpus.references import ArticleRef, ReferenceParser

DEFAULT_CORPUS_DIR = Path(__file__).resolve().parent

__all__ = [
    "DEFAULT_CORPUS_DIR",
    "ArticleRef",
    "Corpus",
    "CorpusError",
    "DocumentInfo",
    "Manifest",
    "Passage",
    "ReferenceParser",
    "load_corpus",
    "load_manifest",
]
