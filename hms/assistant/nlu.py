"""How the assistant understands a message, without a network or a GPU.

1. Emergencies first, on their own: a curated list of patterns (groups of words that must all
   appear close together, each word matched despite a typo) in data/training.json. It does not
   depend on the classifier, so no training mistake can hide an emergency.
2. The intent: TF-IDF over word 1-2-grams and character 2-5-grams (robust to typos), with a
   logistic regression, trained from the example utterances in data/training.json at first use,
   cached in the process and pickled under VAR_DIR keyed by the data file's hash.
3. The knowledge base: TF-IDF (words and characters) over each article's title, keywords and
   body; cosine similarity ranks the articles (`KnowledgeIndex`).

Nothing here touches the database: the caller gives it the articles and department names.
"""

import hashlib
import json
import logging
import pickle
import re
import threading
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

import numpy as np
from rapidfuzz.distance import OSA

log = logging.getLogger(__name__)

DATA_FILE = Path(__file__).parent / "data" / "training.json"
# Below this probability the classifier's best guess is treated as "unknown".
MIN_CONFIDENCE = 0.30
SHARPNESS = 4.0
# Part of the cached model's file name: change it when the pipeline below changes.
MODEL_VERSION = "tfidf-wc-linearsvc-2"
# Words of one emergency pattern must fall within this many words of each other.
EMERGENCY_SPAN = 7
INTENTS = (
    "emergency", "greeting", "faq", "find_doctor", "available_slots", "book_appointment",
    "reschedule_appointment", "cancel_appointment", "my_appointments", "my_balance",
    "human_handoff", "unknown",
)  # fmt: skip


@cache
def training_data() -> dict:
    return json.loads(DATA_FILE.read_text(encoding="utf-8"))


def data_hash() -> str:
    return hashlib.sha256(DATA_FILE.read_bytes()).hexdigest()[:16]


def normalise(text: str) -> str:
    """Lower case, accents and apostrophes dropped ("can't" -> "cant"), punctuation to spaces."""
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = re.sub(r"['’`´]", "", text)
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


def words(text: str) -> list[str]:
    return normalise(text).split()


@lru_cache(maxsize=100_000)
def word_matches(token: str, wanted: str) -> bool:
    """`token` is `wanted`, a longer form of it, or one typo away (two for long words)."""
    if token == wanted:
        return True
    if len(wanted) <= 3 or abs(len(token) - len(wanted)) > 2:
        return len(wanted) >= 5 and token.startswith(wanted)
    if len(wanted) >= 5 and token.startswith(wanted):
        return True
    allowed = 2 if len(wanted) >= 8 else 1
    if len(wanted) == 4 and token[0] != wanted[0]:
        return False
    return OSA.distance(token, wanted, score_cutoff=allowed) <= allowed


def _phrase_positions(tokens: list[str], phrase: list[str]) -> list[int]:
    """Where the (possibly several-word) phrase starts in `tokens`."""
    n = len(phrase)
    return [
        i
        for i in range(len(tokens) - n + 1)
        if all(word_matches(tokens[i + k], phrase[k]) for k in range(n))
    ]


@dataclass(frozen=True)
class EmergencyPattern:
    label: str
    groups: tuple[tuple[tuple[str, ...], ...], ...]  # each group: alternatives, each: words

    def found_in(self, tokens: list[str]) -> bool:
        positions = []
        for group in self.groups:
            found = sorted({p for alt in group for p in _phrase_positions(tokens, list(alt))})
            if not found:
                return False
            positions.append(found)
        if len(positions) == 1:
            return True
        # Some choice of one position per group within EMERGENCY_SPAN words: try each anchor.
        for anchor in positions[0]:
            if all(
                any(abs(p - anchor) <= EMERGENCY_SPAN for p in group) for group in positions[1:]
            ):
                return True
        return False


@cache
def emergency_patterns() -> tuple[EmergencyPattern, ...]:
    return tuple(
        EmergencyPattern(
            label=entry["label"],
            groups=tuple(
                tuple(tuple(normalise(alt).split()) for alt in group) for group in entry["all"]
            ),
        )
        for entry in training_data()["emergency"]
    )


def emergency_in(text: str) -> str | None:
    """The label of the first emergency pattern found in the text, or None."""
    tokens = words(text)
    for pattern in emergency_patterns():
        if pattern.found_in(tokens):
            return pattern.label
    return None


# --- Intents --------------------------------------------------------------------------------


class TextFeatures:
    """TF-IDF over words (1-2-grams) and characters (2-5-grams within words), side by side.
    (sklearn's FeatureUnion does the same but costs ~10 ms per call in parallelism set-up,
    too much for one chat message.)"""

    def __init__(self):
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.parts = [
            TfidfVectorizer(preprocessor=normalise, ngram_range=(1, 2), sublinear_tf=True),
            TfidfVectorizer(
                preprocessor=normalise, analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True
            ),
        ]

    def fit_transform(self, texts: list[str]):
        from scipy.sparse import hstack

        return hstack([part.fit_transform(texts) for part in self.parts]).tocsr()

    def transform(self, texts: list[str]):
        from scipy.sparse import hstack

        return hstack([part.transform(texts) for part in self.parts]).tocsr()


class IntentModel:
    """The features and a linear SVM over them; `scores` is one sparse product per class."""

    def __init__(self):
        from sklearn.svm import LinearSVC

        self.features = TextFeatures()
        self.classifier = LinearSVC(C=1.0)

    def fit(self, texts: list[str], labels: list[str]) -> "IntentModel":
        self.classifier.fit(self.features.fit_transform(texts), labels)
        self.classes_ = [str(c) for c in self.classifier.classes_]
        self.coef_ = self.classifier.coef_.T  # features x classes
        self.intercept_ = self.classifier.intercept_
        return self

    def scores(self, text: str) -> np.ndarray:
        return np.asarray(self.features.transform([text]) @ self.coef_).ravel() + self.intercept_


def train_intents() -> IntentModel:
    """A fitted model from the example utterances (a fraction of a second)."""
    texts, labels = [], []
    for intent, examples in training_data()["intents"].items():
        texts += examples
        labels += [intent] * len(examples)
    return IntentModel().fit(texts, labels)


_lock = threading.Lock()
_model = None


def _cache_file() -> Path | None:
    try:
        import sklearn
        from django.conf import settings

        folder = Path(settings.VAR_DIR) / "assistant"
    except Exception:  # noqa: BLE001  (no settings: train without a file cache)
        return None
    return folder / f"intents-{MODEL_VERSION}-{data_hash()}-sklearn{sklearn.__version__}.pkl"


def intent_model():
    """The trained classifier: trained once per process, or loaded from VAR_DIR when the same
    data file was trained before (the file name holds its hash and the library's version)."""
    global _model
    if _model is not None:
        return _model
    with _lock:
        if _model is not None:
            return _model
        path = _cache_file()
        model = None
        if path is not None and path.exists():
            try:
                model = pickle.loads(path.read_bytes())  # noqa: S301  (our own file)
            except Exception:  # noqa: BLE001  (stale or broken: train again)
                log.warning("assistant: retraining, the cached model would not load")
        if model is None:
            model = train_intents()
            if path is not None:
                try:
                    path.parent.mkdir(parents=True, exist_ok=True)
                    tmp = path.with_suffix(".tmp")
                    tmp.write_bytes(pickle.dumps(model))
                    tmp.replace(path)
                except OSError:
                    log.warning("assistant: could not cache the model in %s", path)
        _model = model
    return _model


@dataclass(frozen=True)
class Understanding:
    intent: str
    confidence: float
    emergency: str | None = None
    advice: bool = False  # asks for a diagnosis or a medicine: declined
    article: "tuple[Doc, float] | None" = None  # the best knowledge-base answer, for "faq"


def classify(text: str) -> Understanding:
    """The intent of a message: "emergency" whenever an emergency pattern is in it, else the
    classifier's best guess, "unknown" below MIN_CONFIDENCE."""
    label = emergency_in(text)
    if label is not None:
        return Understanding("emergency", 1.0, emergency=label)
    if not normalise(text):
        return Understanding("unknown", 1.0)
    model = intent_model()
    scores = model.scores(text)
    # A softmax of the margins, sharpened: a confidence between 0 and 1, not a probability.
    weights = np.exp((scores - scores.max()) * SHARPNESS)
    probabilities = weights / weights.sum()
    best = int(probabilities.argmax())
    intent, confidence = str(model.classes_[best]), float(probabilities[best])
    if confidence < MIN_CONFIDENCE:
        return Understanding("unknown", confidence)
    return Understanding(intent, confidence)


def is_one_of(text: str, key: str) -> bool:
    """The whole message is one of the short answers listed under `key` ("confirm", "deny")."""
    said = normalise(text)
    return any(said == normalise(phrase) for phrase in training_data()[key])


def asks_for_medical_advice(text: str) -> bool:
    said = f" {normalise(text)} "
    return any(f" {normalise(phrase)} " in said for phrase in training_data()["advice"])


# --- Knowledge base -------------------------------------------------------------------------


@dataclass(frozen=True)
class Doc:
    key: object  # the article's id (or slug in the benchmark)
    title: str
    keywords: str
    body: str


class KnowledgeIndex:
    """Cosine similarity over TF-IDF vectors of the articles (title and keywords weigh more
    than the body). Building costs O(size of the articles); a search, one sparse product."""

    def __init__(self, docs: list[Doc]):
        self.docs = docs
        self.vectoriser = None
        if not docs:
            return
        self.vectoriser = TextFeatures()
        texts = [
            f"{d.title} {d.title} {d.keywords} {d.keywords} {d.keywords} {d.body}" for d in docs
        ]
        self.matrix = self.vectoriser.fit_transform(texts)

    def search(self, text: str, limit: int = 3) -> list[tuple[Doc, float]]:
        if self.vectoriser is None or not normalise(text):
            return []
        query = self.vectoriser.transform([text])
        # Rows are L2-normalised per vectoriser: the product is the mean of both cosines.
        scores = (self.matrix @ query.T).toarray().ravel() / 2
        order = scores.argsort()[::-1][:limit]
        return [(self.docs[i], float(scores[i])) for i in order if scores[i] > 0]


# --- Symptoms and departments ---------------------------------------------------------------


def department_named(text: str, department_names: list[str]) -> str | None:
    """The department the message names, directly ("cardiology"), by a word for its doctors
    ("cardiologist") or by a symptom ("my knee hurts" -> Orthopaedics), matched against the
    hospital's department names; None when it names none."""
    tokens = words(text)
    by_key = {normalise(name): name for name in department_names}
    for key, name in by_key.items():
        if _phrase_positions(tokens, key.split()):
            return name
    for department, symptoms in training_data()["symptoms"].items():
        name = by_key.get(normalise(department)) or next(
            (n for k, n in by_key.items() if OSA.distance(k, normalise(department)) <= 2), None
        )
        if name is None:
            continue
        for symptom in symptoms:
            if _phrase_positions(tokens, normalise(symptom).split()):
                return name
    return None


# --- All together ---------------------------------------------------------------------------

# Below this cosine similarity no article answers the question.
FAQ_MIN_SCORE = 0.12
# An article this close answers even when the classifier was unsure or heard a greeting.
FAQ_STRONG_SCORE = 0.35


def understand(text: str, index: KnowledgeIndex) -> Understanding:
    """What the engine acts on: an emergency first; a request for medical advice (answered as
    a question, with a refusal); else the classifier's intent, a question only when an article
    answers it well enough (else "unknown"), and a strong article match wins over "unknown"."""
    first = classify(text)
    if first.intent == "emergency":
        return first
    if asks_for_medical_advice(text):
        return Understanding("faq", 1.0, advice=True)
    if first.intent not in ("faq", "unknown", "greeting"):
        return first
    hits = index.search(text, limit=1)
    best = hits[0] if hits else None
    if first.intent == "faq":
        if best is None or best[1] < FAQ_MIN_SCORE:
            return Understanding("unknown", first.confidence)
        return Understanding("faq", first.confidence, article=best)
    if best is not None and best[1] >= FAQ_STRONG_SCORE:
        return Understanding("faq", best[1], article=best)
    return first
