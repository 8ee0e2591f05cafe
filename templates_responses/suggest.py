"""Which pre-written replies answer a customer's message: by meaning, in any language; and by code or title.

Every example phrasing of every reply (and every phrasing learned from use) is turned into a
vector by an :data:`Embedder` (a multilingual sentence encoder, behind a port: this module only
does arithmetic). A message is scored against each reply two ways, and the two are added:

- the nearest of the reply's phrasings (cosine similarity, times :data:`NEAREST_WEIGHT`): a reply
  with one good example is found as well as one with a hundred;
- a softmax layer over the replies, fitted to the phrasings when the library is built (its
  log-probability): it weighs which words of a phrasing tell its reply apart.

How these were chosen: on BANKING77, with a tenth of ``train.csv`` held out for validation (never
``test.csv``), nearest phrasing alone gave 87 % top-1, the softmax layer alone 90 %, their sum
91 % (top-3 97.5 %); the layer's settings below were the best of the few tried on that split.
Weighing each reply alike in the layer (whatever its number of phrasings) left that split as it
was (90.9 %, 97.6 %) and, on it, raised English messages asked of replies with only Indonesian
phrasings from 13.7 % to 19.8 % top-1 (35.5 % to 39.3 % top-3).

The ``/code`` search (:meth:`Suggester.find`) matches short codes and titles with rapidfuzz.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from rapidfuzz import fuzz, process

from templates_responses.replies import Reply

__all__ = ["NEAREST_WEIGHT", "Embedder", "Suggester", "Suggestion"]

Embedder = Callable[[Sequence[str]], npt.NDArray[np.float32]]  # texts -> (n, d), each row of length 1
Vectors = npt.NDArray[np.float32]

NEAREST_WEIGHT = 20.0
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
        return np.asarray(nearest * NEAREST_WEIGHT + log_p, dtype=np.float64)

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
