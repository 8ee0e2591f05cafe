"""A second opinion on which reply a message asks for: its letters, not its meaning.

The character n-grams (2 to 5, within words) of every phrasing, weighted by TF-IDF, and a
logistic regression over the replies (scikit-learn). It catches what a sentence encoder blurs:
product words, misspellings customers repeat, the exact wording of a bank's own terms, in any
language written in the Latin script. :class:`templates_responses.suggest.Suggester` adds its
log-probabilities to its own scores. No I/O: phrasings in, arrays out.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from sklearn.linear_model import LogisticRegression

__all__ = ["CharGrams"]

_C = 20.0  # the regression's inverse regularisation (chosen on BANKING77's validation split, with the weight)
_MAX_CHARS = 2000


class CharGrams:
    """Fitted to ``texts``, each a phrasing of reply ``owners[i]`` of ``classes`` replies."""

    def __init__(self, texts: Sequence[str], owners: Sequence[int], classes: int) -> None:
        self._classes = classes
        self._model: LogisticRegression | None = None
        present = sorted(set(owners))
        if len(present) < 2:
            return  # one reply (or none): nothing to tell apart
        # scikit-learn is imported when a model is fitted, not with the engine: its import alone
        # costs about 1.5 s of CPU, which every CLI command paid before.
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        self._vectorizer = TfidfVectorizer(
            analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2 if len(texts) >= 200 else 1,
            lowercase=True,
        )  # fmt: skip
        features = self._vectorizer.fit_transform([t[:_MAX_CHARS] for t in texts])
        self._model = LogisticRegression(C=_C, max_iter=2000).fit(features, list(owners))
        self._columns = np.asarray(self._model.classes_, dtype=np.int64)

    def log_probabilities(self, message: str) -> npt.NDArray[np.float64]:
        """Each reply's log-probability for ``message`` (replies with no phrasing: very unlikely); 0s if unfitted."""
        if self._model is None:
            return np.zeros(self._classes)
        found = self._model.predict_log_proba(self._vectorizer.transform([message[:_MAX_CHARS]]))[0]
        out = np.full(self._classes, float(found.min()) - 10.0)
        out[self._columns] = found
        return out
