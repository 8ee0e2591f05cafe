"""Which pre-written replies answer a customer's message: by meaning, in any language; and by code or title.

Every example phrasing of every reply (and every phrasing learned from use) is turned into a
vector by an :data:`Embedder` (a multilingual sentence encoder, behind a port: this module only
does arithmetic). A message is scored against each reply three ways, and they are added:

- the nearest of the reply's phrasings (cosine similarity, times :data:`NEAREST_WEIGHT`): a reply
  with one good example is found as well as one with a hundred;
- a softmax layer over the replies, fitted to the phrasings when the library is built (its
  log-probability): it weighs which words of a phrasing tell its reply apart;
- a logistic regression over the phrasings' character n-grams (:mod:`templates_responses.char_grams`,
  its log-probability times :data:`LETTERS_WEIGHT`): their letters, where the encoder blurs them.

How these were chosen: on BANKING77, with a tenth of ``train.csv`` held out for validation (never
``test.csv``), nearest phrasing alone gave 87 % top-1, the softmax layer alone 90 %, their sum
91 % (top-3 97.5 %); the layer's settings below were the best of the few tried on that split.
Weighing each reply alike in the layer (whatever its number of phrasings) left that split as it
was (90.9 %, 97.6 %) and, on it, raised English messages asked of replies with only Indonesian
phrasings from 13.7 % to 19.8 % top-1 (35.5 % to 39.3 % top-3). Adding the character n-gram
model on that split raised top-1 from 90.9 % to 92.6 % and top-3 from 97.6 % to 98.0 % (weights
0.5 to 5 tried: 3 was best; 2 gave 92.3 / 97.9). On the starter library (five phrasings a reply)
it put a wrong reply first for one of six test messages at full weight, none at a tenth of it:
hence its weight grows with the phrasings a reply has (:data:`FULL_LETTERS`).

The ``/code`` search (:meth:`Suggester.find`) matches short codes and titles with rapidfuzz.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from rapidfuzz import fuzz, process

from templates_responses.char_grams import CharGrams
from templates_responses.language import LANGUAGES, guess_language
from templates_responses.replies import Reply

__all__ = ["LETTERS_WEIGHT", "NEAREST_WEIGHT", "Embedder", "Suggester", "Suggestion"]

Embedder = Callable[[Sequence[str]], npt.NDArray[np.float32]]  # texts -> (n, d), each row of length 1
Vectors = npt.NDArray[np.float32]

NEAREST_WEIGHT = 20.0
LETTERS_WEIGHT = 3.0  # of the character n-gram model's log-probability (templates_responses.char_grams)
FULL_LETTERS = 50  # phrasings a reply from which that model has its full weight (BANKING77 has about 130)
_SCALE = 20.0  # the layer sees vectors times this (their cosines are small)
_EPOCHS = 600
_RATE = 2.0
_DECAY = 1e-3
_MAX_CHARS = 2000  # of a message, embedded: the rest says little more, and costs


@dataclass(frozen=True, slots=True)
class Suggestion:
    reply: Reply
    score: float


class Suggester:
    """The library's replies, ready to be suggested (see the module's docstring).

    Built once per library version; :meth:`learn` adds a phrasing without rebuilding.
    """

    def __init__(self, replies: Sequence[Reply], embed: Embedder, learned: Sequence[tuple[str, str]] = ()) -> None:
        self._replies = list(replies)
        self._embed = embed
        self._index = {r.id: i for i, r in enumerate(self._replies)}
        texts, owners = [], []
        for i, reply in enumerate(self._replies):
            for phrase in (reply.title, *reply.examples):
                texts.append(phrase)
                owners.append(i)
        for reply_id, phrase in learned:
            if reply_id in self._index:
                texts.append(phrase)
                owners.append(self._index[reply_id])
        vectors: Vectors = self._encode(texts) if texts else np.zeros((0, 1), np.float32)
        self._bank = (vectors, np.array(owners, dtype=np.int64))  # replaced whole: a reader sees one or the other
        self._weights, self._bias = _fit(*self._bank, len(self._replies))
        self._letters = CharGrams(texts, owners, len(self._replies))
        # The languages each reply's phrasings are in: letters say nothing of a reply phrased in another.
        spoken: list[set[str]] = [set() for _ in self._replies]
        for text, owner in zip(texts, owners, strict=True):
            spoken[owner].add(guess_language(text))
        self._spoken = {lang: np.array([lang in s for s in spoken]) for lang in LANGUAGES}
        # Letters need examples: full weight from FULL_LETTERS phrasings a reply, less in proportion below
        # (on the starter library's five a reply it misled where meaning did not).
        each = len(texts) / max(1, len(set(owners)))
        self._letters_weight = LETTERS_WEIGHT * min(1.0, each / FULL_LETTERS)
        self._titles = [f"{r.code} {r.title}" for r in self._replies]

    def _encode(self, texts: Sequence[str]) -> Vectors:
        return np.asarray(self._embed([t[:_MAX_CHARS] for t in texts]), dtype=np.float32)

    def scores(self, message: str) -> npt.NDArray[np.float64]:
        """Each reply's score for ``message`` (higher is better)."""
        if not self._replies or not message.strip():
            return np.zeros(len(self._replies))
        query = self._encode([message])[0]
        vectors, owners = self._bank
        similarity = vectors @ query
        nearest = np.full(len(self._replies), -1.0)
        np.maximum.at(nearest, owners, similarity)
        logits = (query * _SCALE) @ self._weights + self._bias
        logits -= logits.max()
        log_p = logits - np.log(np.exp(logits).sum())
        letters = self._letters.log_probabilities(message)
        # Letters only rank the replies phrased in the message's language among themselves: one phrased in
        # another is never put below them for its letters (it gets the best of theirs); with none, letters say nothing.
        spoken = self._spoken.get(guess_language(message), np.ones(len(self._replies), dtype=bool))
        letters = np.where(spoken, letters, letters[spoken].max()) if spoken.any() else np.zeros_like(letters)
        return np.asarray(nearest * NEAREST_WEIGHT + log_p + self._letters_weight * letters, dtype=np.float64)

    def suggest(self, message: str, usable: Callable[[Reply], bool], n: int = 3) -> list[Suggestion]:
        """The ``n`` best replies for ``message`` among those ``usable`` says the agent may use."""
        if not message.strip():
            return []
        scores = self.scores(message)
        best = []
        for i in np.argsort(-scores):
            reply = self._replies[int(i)]
            if usable(reply):
                best.append(Suggestion(reply, float(scores[i])))
                if len(best) == n:
                    break
        return best

    def learn(self, reply_id: str, message: str) -> None:
        """The agent picked ``reply_id`` for ``message``: a phrasing of that reply from now on."""
        i = self._index.get(reply_id)
        if i is None or not message.strip():
            return
        vectors, owners = self._bank
        self._bank = (np.vstack([vectors, self._encode([message])]), np.append(owners, i))

    def find(self, typed: str, usable: Callable[[Reply], bool], n: int = 5) -> list[Reply]:
        """Replies whose short code or title is like ``typed`` (what follows "/" or "::" in the reply box)."""
        word = typed.strip().lower()
        if not word:
            return [r for r in self._replies if usable(r)][:n]
        exact = [r for r in self._replies if r.code == word and usable(r)]
        found = process.extract(word, self._titles, scorer=fuzz.partial_ratio, limit=len(self._titles))
        ranked = [self._replies[i] for _, score, i in found if score >= 60]
        unique = {r.id: r for r in [*exact, *(r for r in ranked if usable(r))]}  # the first place of each
        return list(unique.values())[:n]


def _fit(vectors: Vectors, owners: npt.NDArray[np.int64], classes: int) -> tuple[Vectors, Vectors]:
    """A softmax layer over the replies fitted to their phrasings (full-batch gradient descent, fixed steps).

    Each reply weighs the same whatever its number of phrasings (each phrasing 1/count of its
    reply's): a reply with many examples, or many learned from use, is not preferred for that.
    """
    dim = vectors.shape[1]
    weights = np.zeros((dim, classes), np.float32)
    bias = np.zeros(classes, np.float32)
    if len(vectors) == 0 or classes < 2:
        return weights, bias
    x = vectors * _SCALE
    target = np.eye(classes, dtype=np.float32)[owners]
    counts = np.bincount(owners, minlength=classes).astype(np.float32)
    balance = (len(owners) / (np.count_nonzero(counts) * counts[owners]))[:, None].astype(np.float32)
    for _ in range(_EPOCHS):
        z = x @ weights + bias
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        gradient = (p - target) * balance
        weights -= _RATE * (x.T @ gradient / len(x) + _DECAY * weights)
        bias -= _RATE * gradient.mean(axis=0)
    return weights, bias
