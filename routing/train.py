"""Train the routing second opinion (routing/opinion.py) from labelled messages, with scikit-learn.

scikit-learn does the fitting (a regularised multinomial logistic regression is not something to
write by hand); it is needed only here, offline: `pip install '.[train]'`. The bot evaluates the
trained weights in plain Python.
"""

from __future__ import annotations

from collections.abc import Sequence

from routing.opinion import Opinion, features

# Inverse regularisation strength, and the fewest messages a feature must appear in (one-message
# n-grams are mostly typos and names; dropping them halves the model). Chosen on blind batches 2-8,
# each scored by a model trained only on the messages written before it (docs/BENCHMARKS.md):
# with the words, 2-3 routed best (96.1% right, 0.9% misrouted); 10 and more fit the examples too well.
STRENGTH = 3.0
MIN_MESSAGES = 2


def train(examples: Sequence[tuple[str, str]], *, strength: float = STRENGTH) -> Opinion:
    """A model from (label, text) pairs; label is an agency code or "null" (for none)."""
    try:
        from scipy.sparse import diags
        from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer
        from sklearn.linear_model import LogisticRegression
    except ImportError:
        raise RuntimeError("training the routing model needs scikit-learn: pip install '.[train]'") from None

    if len({label for label, _ in examples}) < 2:
        raise ValueError("training needs examples of at least two labels")
    counter = CountVectorizer(analyzer=features, min_df=MIN_MESSAGES)
    counts = counter.fit_transform([text for _, text in examples])
    idf = TfidfTransformer(norm=None).fit(counts).idf_
    # Each message's idf-weighted counts over the square root of how many features it has, as
    # Opinion.probabilities computes them (see routing/opinion.py for why not the usual l2 norm).
    lengths = counts.sum(axis=1).A1
    scale = diags([1.0 / length**0.5 if length else 0.0 for length in lengths])
    matrix = (scale @ counts @ diags(idf)).tocsr()
    model = LogisticRegression(C=strength, max_iter=5000)
    model.fit(matrix, [label for label, _ in examples])
    labels = tuple(str(label) for label in model.classes_)
    coefficients = model.coef_
    bias: tuple[float, ...] = tuple(float(value) for value in model.intercept_)
    if len(labels) == 2:
        # scikit-learn keeps one row for two labels (the second's log-odds): split it over both.
        coefficients = [-coefficients[0] / 2, coefficients[0] / 2]
        bias = (-bias[0] / 2, bias[0] / 2)
    vocabulary: dict[str, int] = counter.vocabulary_
    weights = {
        feature: tuple(float(row[column]) * float(idf[column]) for row in coefficients)
        for feature, column in vocabulary.items()
    }
    return Opinion(labels, bias, weights)
