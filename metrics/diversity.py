"""Text diversity: lexical and semantic, exact and near duplicates, conflicting labels, sources.

Everything runs on scikit-learn, with no model download:

- lexical figures on fixed-size samples (they depend on n): distinct-1 and distinct-2 (Li et al.
  2016) and the gzip compression ratio (raw bytes / compressed bytes; higher = more redundant);
- semantic figures on TF-IDF of character 3-5 grams (``char_wb``, sublinear tf; hashed into 2^20
  features so no vocabulary is held), truncated SVD to ``dims`` dimensions, L2-normalised:
  Vendi score (Friedman & Dieng 2023), k-means cluster coverage and evenness, and the
  near-duplicate rate (nearest-neighbour cosine >= 0.95);
- exact duplicates after normalisation (NFKC, casefold, punctuation removed, whitespace
  collapsed). Texts are embedded once per distinct normalised text.

Near neighbours are searched exactly, without an n x n matrix: points are assigned to k-means
cells and a query only scans the cells whose Voronoi region its cosine ball can reach (the ball
must cross the bisector between its own centroid and the other one), block by block.

Diversity figures warn on a 20% drop against the reference (MEASURES.md "Diversity and
coverage"); they never fail a gate on their own.
"""

from __future__ import annotations

import gzip
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import connected_components

from metrics.errors import MetricInputError

# MEASURES.md "Diversity and coverage".
NEAR_DUPLICATE_COSINE = 0.95
SAMPLE_SIZE = 1000
SEEDS = 5
SVD_DIMS = 128
MAX_CLUSTERS = 100
MIN_ITEMS_PER_CLUSTER = 3
DIVERSITY_DROP_WARN = 0.20
HASH_FEATURES = 2**20
FIT_SAMPLE = 5_000  # texts the TF-IDF weights and the SVD are fitted on; the rest are projected
MAX_SVD_FEATURES = 50_000  # most frequent hashed n-grams of the fit sample kept for the SVD
CLUSTER_FIT_SAMPLE = 5_000  # rows k-means is fitted on
PREFILTER_DIMS = 32  # coordinates of the cheap cosine bound in the neighbour scan
NEIGHBOURS_KEPT = 10  # near pairs kept per text (the groups stay connected through them)
BLOCK_CELLS = 4_000_000  # similarity cells per block (16 MB of float32)

_PUNCTUATION = r"[^\w\s]|_"


@dataclass(frozen=True)
class TextDiversity:
    """Diversity of a set of texts.

    ``n`` texts (``n_empty`` of them empty after normalisation, left out of the semantic
    figures); ``n_sample`` texts per sample and ``seeds`` samples for the lexical figures and
    ``vendi_score`` (means over samples: compare at equal ``n_sample``); ``distinct_1``,
    ``distinct_2``, ``compression_ratio``; ``vendi_score`` (1 = one distinct item, up to
    ``n_sample``) and ``vendi_score_all`` (over all texts, up to ``dims``); ``n_clusters`` (k-means,
    about sqrt(n), at most 100), ``cluster_coverage`` (share of clusters with at least 3 texts)
    and ``cluster_evenness`` (entropy of the cluster sizes / ln k); ``exact_duplicate_rate`` and
    ``near_duplicate_rate``: the share of texts with at least one exact (normalised) twin, and
    with at least one twin or neighbour at cosine >= ``near_threshold``. NaN semantic figures
    carry a ``reason``.
    """

    n: int
    n_empty: int
    n_sample: int
    seeds: int
    distinct_1: float
    distinct_2: float
    compression_ratio: float
    vendi_score: float
    vendi_score_all: float
    n_clusters: int
    cluster_coverage: float
    cluster_evenness: float
    exact_duplicate_rate: float
    near_duplicate_rate: float
    near_threshold: float
    dims: int
    reason: str = ""


# ---------------------------------------------------------------------------------------------
# Normalisation and lexical figures
# ---------------------------------------------------------------------------------------------


def normalize_texts(texts: pd.Series | list) -> pd.Series:
    """NFKC, casefold, punctuation and symbols removed, whitespace collapsed and stripped.

    Examples
    --------
    >>> normalize_texts(["  Hello,   WORLD!! ", "ﬁne"]).tolist()
    ['hello world', 'fine']
    """
    series = pd.Series(texts, dtype=object).fillna("").astype(str)
    series = series.str.normalize("NFKC").str.casefold()
    series = series.str.replace(_PUNCTUATION, " ", regex=True)
    return series.str.split().str.join(" ").astype(object)


def distinct_n(texts: list[str], n: int) -> float:
    """Distinct-n (Li et al. 2016): distinct n-grams of words / all n-grams, over the texts.

    NaN when the texts hold no n-gram.

    Examples
    --------
    >>> distinct_n(["a b a b", "a b"], 1), distinct_n(["a b a b", "a b"], 2)
    (0.3333333333333333, 0.5)
    """
    grams = [tuple(words[i:i + n]) for words in (t.split() for t in texts) for i in range(len(words) - n + 1)]
    return len(set(grams)) / len(grams) if grams else math.nan


def compression_ratio(texts: list[str]) -> float:
    """Raw UTF-8 bytes / gzip bytes of the texts joined by newlines (higher = more redundant).
    NaN for no text.

    Examples
    --------
    >>> compression_ratio(["same text"] * 200) > compression_ratio([str(i * 7919) for i in range(200)])
    True
    """
    data = "\n".join(texts).encode("utf-8")
    if not data:
        return math.nan
    return len(data) / len(gzip.compress(data, compresslevel=9, mtime=0))


def _sample_positions(n: int, sample_size: int, seeds: int) -> list[np.ndarray]:
    if n <= sample_size:
        return [np.arange(n)]
    return [np.sort(np.random.default_rng(seed).choice(n, sample_size, replace=False)) for seed in range(seeds)]


# ---------------------------------------------------------------------------------------------
# Semantic figures
# ---------------------------------------------------------------------------------------------


def char_wb_counts(texts: list[str], ngram_range: tuple[int, int] = (3, 5),
                   n_features: int = HASH_FEATURES) -> csr_matrix:
    """Hashed counts of the character n-grams inside word boundaries.

    scikit-learn's ``HashingVectorizer(analyzer="char_wb")``: each word padded with one space on
    each side, n-grams taken inside the padded word (a padded word shorter than n gives itself
    once), lower-cased, hashed into ``n_features`` columns without sign flipping or normalisation, so the
    counts feed :class:`~sklearn.feature_extraction.text.TfidfTransformer` as raw counts.

    Examples
    --------
    >>> counts = char_wb_counts(["ab", "ab ab"])
    >>> counts.sum(axis=1).A1.astype(int).tolist()  # " ab " has 2 3-grams and 1 4-gram
    [3, 6]
    """
    from sklearn.feature_extraction.text import HashingVectorizer

    vectorizer = HashingVectorizer(
        analyzer="char_wb",
        ngram_range=ngram_range,
        n_features=n_features,
        alternate_sign=False,
        norm=None,
        dtype=np.float32,
    )
    return vectorizer.transform([str(text) for text in texts]).tocsr()


def embed_texts(texts: list[str] | pd.Series, dims: int = SVD_DIMS, *, seed: int = 0,
                fit_sample: int = FIT_SAMPLE) -> np.ndarray:
    """TF-IDF of character 3-5 grams (:func:`char_wb_counts`, sublinear tf), truncated SVD to
    ``dims`` dimensions, L2-normalised rows (float32). Empty texts give zero rows.

    TF-IDF weights and the SVD basis are fitted on at most ``fit_sample`` texts (seeded), on
    their 50,000 most frequent n-grams, and every text is projected on them.

    Examples
    --------
    >>> vectors = embed_texts(["refund my order", "refund my order please", "the weather is nice"], dims=2)
    >>> vectors.shape
    (3, 2)
    """
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfTransformer
    from sklearn.preprocessing import normalize

    texts = list(texts)
    if not texts:
        return np.zeros((0, dims), dtype=np.float32)
    hashed = char_wb_counts(texts)
    rng = np.random.default_rng(seed)
    fit_rows = np.arange(len(texts)) if len(texts) <= fit_sample else rng.choice(len(texts), fit_sample, replace=False)
    # keep the most frequent n-grams of the fit sample: the SVD then works on a real vocabulary
    document_frequency = hashed[fit_rows].getnnz(axis=0)
    used = np.flatnonzero(document_frequency)
    if used.size > MAX_SVD_FEATURES:
        used = np.sort(used[np.argsort(-document_frequency[used], kind="stable")[:MAX_SVD_FEATURES]])
    hashed = hashed[:, used]
    tfidf = TfidfTransformer(sublinear_tf=True).fit(hashed[fit_rows])
    weighted = tfidf.transform(hashed)
    if weighted.nnz == 0:
        return np.zeros((len(texts), dims), dtype=np.float32)
    if len(texts) <= dims:  # few texts: an exact SVD keeps every cosine
        left, singular, _ = np.linalg.svd(weighted.toarray(), full_matrices=False)
        projected = normalize(left * singular).astype(np.float32)
        components = projected.shape[1]
    else:
        components = dims
        svd = TruncatedSVD(n_components=components, n_iter=4, random_state=seed).fit(weighted[fit_rows])
        projected = normalize(svd.transform(weighted)).astype(np.float32)
    if components < dims:
        projected = np.hstack([projected, np.zeros((len(texts), dims - components), dtype=np.float32)])
    return projected


def vendi_score(vectors: np.ndarray, weights: np.ndarray | None = None) -> float:
    r"""Vendi score: the effective number of distinct items (Friedman & Dieng 2023).

    With :math:`K` the cosine similarity matrix of the n rows,
    :math:`VS = \exp(-\sum_i \lambda_i \ln \lambda_i)` over the eigenvalues of :math:`K/n`.
    The non-zero eigenvalues of :math:`K/n = XX^\top/n` are those of the d x d matrix
    :math:`X^\top X / n`, used when n > d, so the cost is O(n d^2). Rows are L2-normalised;
    ``weights`` repeat rows (a row with weight 3 counts as three identical rows).
    1 for identical rows, n for orthogonal ones; NaN for no rows.

    References
    ----------
    Friedman, D. & Dieng, A. B. (2023). The Vendi Score: A Diversity Evaluation Metric for
    Machine Learning. TMLR.

    Examples
    --------
    >>> round(vendi_score(np.eye(4)), 6), round(vendi_score(np.ones((5, 3))), 6)
    (4.0, 1.0)
    """
    vectors = np.asarray(vectors, dtype=np.float64)
    if vectors.ndim != 2:
        raise MetricInputError(f"vendi_score expects a 2-D array of vectors, got shape {vectors.shape}")
    if vectors.shape[0] == 0:
        return math.nan
    norms = np.linalg.norm(vectors, axis=1)
    if np.any(norms == 0):
        raise MetricInputError("vendi_score needs non-zero vectors (cosine similarity is undefined for a zero row)")
    unit = vectors / norms[:, None]
    weights = np.ones(len(unit)) if weights is None else np.asarray(weights, dtype=np.float64)
    total = weights.sum()
    if unit.shape[0] > unit.shape[1]:
        matrix = (unit * weights[:, None]).T @ unit / total
    else:
        scaled = unit * np.sqrt(weights)[:, None]
        matrix = scaled @ scaled.T / total
    eigenvalues = np.clip(np.linalg.eigvalsh(matrix), 0.0, None)
    eigenvalues = eigenvalues[eigenvalues > 1e-12] / eigenvalues.sum()
    return float(np.exp(-np.sum(eigenvalues * np.log(eigenvalues))))


def _fit_clusters(vectors: np.ndarray, weights: np.ndarray, n_clusters: int, seed: int) -> np.ndarray:
    """k-means centroids, weighted by how often a text occurs; fitted on a seeded sample of at
    most ``CLUSTER_FIT_SAMPLE`` rows (drawn in proportion to the weights), which every row is
    then assigned to. The centroids serve coverage figures and the exact neighbour pruning, so
    a sample fit costs no correctness."""
    from sklearn.cluster import KMeans

    n_clusters = max(1, min(n_clusters, len(vectors)))
    weights = np.asarray(weights, dtype=np.float64)
    if len(vectors) > CLUSTER_FIT_SAMPLE:
        rng = np.random.default_rng(seed)
        rows = rng.choice(len(vectors), CLUSTER_FIT_SAMPLE, replace=False, p=weights / weights.sum())
        vectors, weights = vectors[rows], np.ones(len(rows))
    model = KMeans(n_clusters=n_clusters, random_state=seed, n_init=1, max_iter=100)
    # float64: scikit-learn's float32 distance path upcasts chunk by chunk and is much slower
    return model.fit(vectors.astype(np.float64), sample_weight=weights).cluster_centers_.astype(np.float32)


def _nearest_centroid(vectors: np.ndarray, centroids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nearest centroid of each row and the squared distances to every centroid."""
    squared = (np.sum(vectors**2, axis=1)[:, None] - 2 * vectors @ centroids.T + np.sum(centroids**2, axis=1)[None, :])
    return np.argmin(squared, axis=1), np.maximum(squared, 0)


def cluster_figures(sizes: np.ndarray) -> tuple[float, float]:
    """``(coverage, evenness)`` of cluster sizes: share of clusters with at least 3 items, and
    the entropy of the sizes divided by ln k (NaN when k < 2 or no item).

    Examples
    --------
    >>> coverage, evenness = cluster_figures(np.array([5, 5, 5, 1]))
    >>> coverage, round(evenness, 3)
    (0.75, 0.912)
    """
    sizes = np.asarray(sizes, dtype=float)
    coverage = float(np.mean(sizes >= MIN_ITEMS_PER_CLUSTER)) if sizes.size else math.nan
    total = sizes.sum()
    if sizes.size < 2 or total == 0:
        return coverage, math.nan
    shares = sizes[sizes > 0] / total
    return coverage, float(-np.sum(shares * np.log(shares)) / math.log(sizes.size))


def near_pairs(queries: np.ndarray, base: np.ndarray, threshold: float = NEAR_DUPLICATE_COSINE, *,
               same_set: bool = False, centroids: np.ndarray | None = None, seed: int = 0,
               neighbours: int = NEIGHBOURS_KEPT) -> pd.DataFrame:
    """Pairs (query row, base row) with cosine >= ``threshold`` between L2-normalised rows.

    Exact (no pair is missed): a query ``x`` whose nearest centroid is ``a`` can only have a
    neighbour within Euclidean radius :math:`r = \\sqrt{2 - 2t}` in the cell of centroid ``b``
    when its distance to the bisector of ``a`` and ``b``,
    :math:`(\\|x-c_b\\|^2 - \\|x-c_a\\|^2) / (2\\|c_a - c_b\\|)`, is at most ``r``; only those
    cells are scanned, block by block. At most ``neighbours`` best pairs are kept per query.
    With ``same_set`` the base is the query set and self pairs are left out.

    Returns a DataFrame ``query``, ``base``, ``cosine``.

    Examples
    --------
    >>> vectors = np.array([[1.0, 0.0], [0.999, 0.0447], [0.0, 1.0]], dtype=np.float32)
    >>> near_pairs(vectors, vectors, same_set=True)[["query", "base"]].to_numpy().tolist()
    [[0, 1], [1, 0]]
    """
    empty = pd.DataFrame({"query": np.empty(0, np.int64), "base": np.empty(0, np.int64), "cosine": np.empty(0, np.float32)})
    if len(queries) == 0 or len(base) == 0:
        return empty
    if centroids is None:
        centroids = _fit_clusters(base, np.ones(len(base)), min(MAX_CLUSTERS, int(round(math.sqrt(len(base))))), seed)
    base_cell, _ = _nearest_centroid(base, centroids)
    query_cell, squared = _nearest_centroid(queries, centroids)
    radius = math.sqrt(max(0.0, 2.0 - 2.0 * threshold)) + 1e-4
    centroid_gap = np.linalg.norm(centroids[:, None, :] - centroids[None, :, :], axis=2)
    own = squared[np.arange(len(queries)), query_cell][:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        bisector = (squared - own) / (2 * centroid_gap[query_cell])
    reachable = (bisector <= radius) | (np.arange(len(centroids))[None, :] == query_cell[:, None])
    frames = []
    for cell in range(len(centroids)):  # one iteration per k-means cell (at most 100)
        members = np.flatnonzero(base_cell == cell)
        askers = np.flatnonzero(reachable[:, cell])
        if members.size and askers.size:
            frames.extend(_scan_cell(queries, base, askers, members, threshold, same_set, neighbours))
    if not frames:
        return empty
    pairs = pd.concat(frames, ignore_index=True)
    pairs = pairs.sort_values(["query", "cosine"], ascending=[True, False], kind="stable")
    return pairs.groupby("query", sort=False).head(neighbours).sort_values(["query", "base"]).reset_index(drop=True)


def _scan_cell(queries, base, askers, members, threshold, same_set, neighbours) -> list[pd.DataFrame]:
    """Pairs of one cell, block by block. A cheap bound on the first ``PREFILTER_DIMS``
    coordinates, :math:`x \\cdot y \\le x_h \\cdot y_h + \\|x_t\\|\\|y_t\\|` (Cauchy-Schwarz on the
    tail), leaves few candidates; only those get the exact cosine."""
    head = min(PREFILTER_DIMS, queries.shape[1])
    members_head = base[members, :head]
    members_tail = np.linalg.norm(base[members, head:], axis=1)
    frames = []
    step = max(1, BLOCK_CELLS // max(1, members.size))
    for start in range(0, askers.size, step):  # blocks of queries, each a matrix product
        rows = askers[start:start + step]
        bound = queries[rows, :head] @ members_head.T
        bound += np.linalg.norm(queries[rows, head:], axis=1)[:, None] * members_tail[None, :]
        hit_row, hit_col = np.nonzero(bound >= threshold - 1e-5)
        query_rows, base_rows = rows[hit_row], members[hit_col]
        if same_set:
            distinct = query_rows != base_rows
            query_rows, base_rows = query_rows[distinct], base_rows[distinct]
        cosine = np.einsum("ij,ij->i", queries[query_rows], base[base_rows])
        near = cosine >= threshold
        if near.any():
            block = pd.DataFrame({"query": query_rows[near], "base": base_rows[near], "cosine": cosine[near]})
            if len(block) > neighbours * len(rows):  # keep memory bounded on very redundant corpora
                block = block.sort_values(["query", "cosine"], ascending=[True, False]).groupby("query").head(neighbours)
            frames.append(block)
    return frames


# ---------------------------------------------------------------------------------------------
# The embedded corpus: one vector per distinct normalised text
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Corpus:
    raw: list
    normalized: pd.Series
    codes: np.ndarray  # text -> distinct normalised text
    vectors: np.ndarray  # one row per distinct normalised text
    counts: np.ndarray  # how many texts share each distinct normalised text


def _embed_corpus(texts: list | pd.Series, dims: int, seed: int) -> _Corpus:
    raw = pd.Series(texts, dtype=object).fillna("").astype(str).tolist()
    normalized = normalize_texts(raw)
    codes, uniques = pd.factorize(normalized)
    vectors = embed_texts(list(uniques), dims, seed=seed)
    return _Corpus(raw, normalized, codes, vectors, np.bincount(codes, minlength=len(uniques)))


def _duplicate_flags(corpus: _Corpus, threshold: float, seed: int,
                     centroids: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """Per text: has an exact twin, has an exact twin or a near neighbour; and the near pairs
    between distinct normalised texts."""
    exact = corpus.counts[corpus.codes] > 1
    usable = np.flatnonzero(np.linalg.norm(corpus.vectors, axis=1) > 0)
    pairs = near_pairs(corpus.vectors[usable], corpus.vectors[usable], threshold, same_set=True, seed=seed,
                       centroids=centroids)
    pairs = pairs.assign(query=usable[pairs["query"].to_numpy()], base=usable[pairs["base"].to_numpy()])
    has_near = np.zeros(len(corpus.vectors), dtype=bool)
    has_near[pairs["query"].to_numpy()] = True
    return exact, exact | has_near[corpus.codes], pairs


def text_diversity(
    texts: list[str] | pd.Series,
    sample_size: int = SAMPLE_SIZE,
    seeds: int = SEEDS,
    *,
    dims: int = SVD_DIMS,
    near_threshold: float = NEAR_DUPLICATE_COSINE,
    seed: int = 0,
) -> TextDiversity:
    """Lexical and semantic diversity of a set of texts (see the module docstring).

    Parameters
    ----------
    texts : the texts (None counts as empty).
    sample_size, seeds : lexical figures and ``vendi_score`` are means over ``seeds`` samples of
        ``sample_size`` texts (all texts, once, when there are fewer).
    dims : SVD dimensions (128-256).
    near_threshold : cosine at or above which two texts are near duplicates.
    seed : seed of the TF-IDF/SVD fit sample and of k-means.

    Returns
    -------
    TextDiversity

    Examples
    --------
    >>> texts = [f"please refund order {i}" for i in range(40)] + ["please refund order 1"] * 10
    >>> result = text_diversity(texts, sample_size=20, seeds=2, dims=8)
    >>> result.n, result.n_sample, round(result.exact_duplicate_rate, 2)
    (50, 20, 0.22)
    """
    corpus = _embed_corpus(texts, dims, seed)
    n = len(corpus.raw)
    samples = _sample_positions(n, sample_size, seeds)
    normalized = corpus.normalized.to_numpy()
    lexical = np.array([[distinct_n(list(normalized[s]), 1), distinct_n(list(normalized[s]), 2),
                         compression_ratio([corpus.raw[i] for i in s])] for s in samples], dtype=float)
    nonzero = np.linalg.norm(corpus.vectors, axis=1) > 0
    n_empty = int(np.sum(~nonzero[corpus.codes])) if n else 0
    figures = dict(n=n, n_empty=n_empty, n_sample=int(len(samples[0])) if n else 0, seeds=len(samples),
                   distinct_1=_nanmean(lexical[:, 0]), distinct_2=_nanmean(lexical[:, 1]),
                   compression_ratio=_nanmean(lexical[:, 2]), near_threshold=near_threshold, dims=dims)
    if n - n_empty < 2:
        reason = "fewer than two non-empty texts"
        return TextDiversity(**figures, vendi_score=math.nan, vendi_score_all=math.nan, n_clusters=0,
                             cluster_coverage=math.nan, cluster_evenness=math.nan,
                             exact_duplicate_rate=_exact_rate(corpus), near_duplicate_rate=math.nan, reason=reason)
    return TextDiversity(**figures, **_semantic(corpus, samples, nonzero, near_threshold, seed))


def _semantic(corpus: _Corpus, samples: list[np.ndarray], nonzero: np.ndarray, threshold: float, seed: int) -> dict:
    vendi_samples = []
    for positions in samples:
        codes = corpus.codes[positions]
        codes = codes[nonzero[codes]]
        if codes.size:
            distinct, repeats = np.unique(codes, return_counts=True)
            vendi_samples.append(vendi_score(corpus.vectors[distinct], repeats))
    usable = np.flatnonzero(nonzero)
    weights = corpus.counts[usable]
    k = min(MAX_CLUSTERS, max(1, int(round(math.sqrt(weights.sum())))))
    centroids = _fit_clusters(corpus.vectors[usable], weights, k, seed)
    cells, _ = _nearest_centroid(corpus.vectors[usable], centroids)
    coverage, evenness = cluster_figures(np.bincount(cells, weights=weights, minlength=len(centroids)))
    exact, near, _ = _duplicate_flags(corpus, threshold, seed, centroids)
    return dict(vendi_score=_nanmean(np.array(vendi_samples)),
                vendi_score_all=vendi_score(corpus.vectors[usable], weights), n_clusters=len(centroids),
                cluster_coverage=coverage, cluster_evenness=evenness,
                exact_duplicate_rate=float(exact.mean()), near_duplicate_rate=float(near.mean()))


def _exact_rate(corpus: _Corpus) -> float:
    return float(np.mean(corpus.counts[corpus.codes] > 1)) if len(corpus.codes) else math.nan


def _nanmean(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    return float(finite.mean()) if finite.size else math.nan


# ---------------------------------------------------------------------------------------------
# Duplicate groups and conflicting labels
# ---------------------------------------------------------------------------------------------


def _items_frame(items: pd.DataFrame | pd.Series | list, text_column: str) -> pd.DataFrame:
    if isinstance(items, pd.DataFrame):
        if text_column not in items.columns:
            raise MetricInputError(f"items need a {text_column!r} column; they have {list(items.columns)}")
        frame = items.copy()
        if "item_id" not in frame.columns:
            frame["item_id"] = frame.index.astype(str)
        frame["item_id"] = frame["item_id"].astype(str)
        return frame.reset_index(drop=True)
    texts = pd.Series(items, dtype=object)
    return pd.DataFrame({"item_id": [str(i) for i in range(len(texts))], text_column: texts.to_numpy()})


def duplicate_groups(
    items: pd.DataFrame | pd.Series | list,
    *,
    text_column: str = "text",
    near_threshold: float = NEAR_DUPLICATE_COSINE,
    dims: int = SVD_DIMS,
    seed: int = 0,
) -> pd.DataFrame:
    """Groups of exact and near-duplicate texts.

    Two texts are in one group when their normalised forms are equal or their embeddings have
    cosine >= ``near_threshold`` (groups are the connected components of those links).

    Returns
    -------
    DataFrame
        One row per text in a group of at least two: ``group_id``, ``kind`` (``exact`` when
        every text of the group normalises to the same string, else ``near``), ``size``,
        ``item_id``, ``text``.

    Examples
    --------
    >>> groups = duplicate_groups(["Refund me, please!", "refund me please", "Where is my parcel?"], dims=2)
    >>> groups[["group_id", "kind", "item_id"]].to_numpy().tolist()
    [[0, 'exact', '0'], [0, 'exact', '1']]
    """
    frame = _items_frame(items, text_column)
    corpus = _embed_corpus(frame[text_column], dims, seed)
    columns = ["group_id", "kind", "size", "item_id", "text"]
    if len(frame) < 2:
        return pd.DataFrame(columns=columns)
    _, _, pairs = _duplicate_flags(corpus, near_threshold, seed)
    n_distinct = len(corpus.vectors)
    links = coo_matrix((np.ones(len(pairs)), (pairs["query"].to_numpy(), pairs["base"].to_numpy())),
                       shape=(n_distinct, n_distinct))
    _, component = connected_components(links, directed=False)
    text_group = component[corpus.codes]
    table = pd.DataFrame({"group": text_group, "code": corpus.codes, "item_id": frame["item_id"].to_numpy(),
                          "text": frame[text_column].to_numpy()})
    sizes = table.groupby("group")["item_id"].transform("size")
    table = table[sizes > 1].assign(size=sizes[sizes > 1])
    distinct_codes = table.groupby("group")["code"].transform("nunique")
    table = table.assign(kind=np.where(distinct_codes == 1, "exact", "near"))
    table["group_id"] = pd.factorize(table["group"])[0]
    return table.sort_values(["group_id", "item_id"], kind="stable")[columns].reset_index(drop=True)


def conflicting_labels(
    items: pd.DataFrame | pd.Series | list,
    consensus_labels: pd.DataFrame,
    *,
    text_column: str = "text",
    near_threshold: float = NEAR_DUPLICATE_COSINE,
    dims: int = SVD_DIMS,
    seed: int = 0,
) -> pd.DataFrame:
    """Exact or near-duplicate texts whose consensus labels differ (a failure by default:
    MEASURES.md "Diversity and coverage").

    Parameters
    ----------
    items : ``item_id`` and ``text``.
    consensus_labels : ``item_id``, ``label`` (e.g. the output of ``metrics.consensus``).

    Returns
    -------
    DataFrame
        One row per text of a conflicting group: ``group_id``, ``kind``, ``size``, ``item_id``,
        ``text``, ``label``, ``n_labels`` (distinct labels in the group).

    Examples
    --------
    >>> items = pd.DataFrame({"item_id": ["1", "2", "3"], "text": ["Cancel my plan", "cancel my plan!", "hi"]})
    >>> labels = pd.DataFrame({"item_id": ["1", "2", "3"], "label": ["cancel", "refund", "greeting"]})
    >>> conflicting_labels(items, labels, dims=2)[["group_id", "item_id", "label"]].to_numpy().tolist()
    [[0, '1', 'cancel'], [0, '2', 'refund']]
    """
    if not {"item_id", "label"} <= set(consensus_labels.columns):
        raise MetricInputError("consensus_labels needs 'item_id' and 'label' columns")
    groups = duplicate_groups(items, text_column=text_column, near_threshold=near_threshold, dims=dims, seed=seed)
    labels = consensus_labels[["item_id", "label"]].assign(item_id=consensus_labels["item_id"].astype(str))
    labelled = groups.merge(labels, on="item_id", how="inner")
    labelled["n_labels"] = labelled.groupby("group_id")["label"].transform(lambda s: s.map(str).nunique())
    return labelled[labelled["n_labels"] > 1].reset_index(drop=True)


# ---------------------------------------------------------------------------------------------
# Per source: original versus synthetic
# ---------------------------------------------------------------------------------------------


SOURCE_COLUMNS = [
    "source", "n", "n_sample", "distinct_1", "distinct_2", "compression_ratio", "vendi_score",
    "cluster_coverage", "cluster_evenness", "exact_duplicate_rate", "near_duplicate_rate",
    "near_copies_of_original", "near_copy_share", "vendi_drop", "distinct_2_drop", "verdict",
]


def diversity_by_source(
    items: pd.DataFrame,
    *,
    source_column: str = "source",
    original: str = "original",
    text_column: str = "text",
    sample_size: int = SAMPLE_SIZE,
    seeds: int = SEEDS,
    dims: int = SVD_DIMS,
    near_threshold: float = NEAR_DUPLICATE_COSINE,
    seed: int = 0,
) -> pd.DataFrame:
    """Diversity per source (e.g. ``original`` versus ``synthetic``): did augmentation add
    diversity or only volume?

    All sources share one embedding; k-means cells are fitted on the ``original`` texts, so
    ``cluster_coverage`` is the share of original clusters a source fills with at least 3
    texts. Samples have the same size for every source (the smallest source caps it), so
    Vendi and distinct-n are comparable.

    Returns
    -------
    DataFrame
        One row per source with the :class:`TextDiversity` figures plus
        ``near_copies_of_original`` (texts of the source whose normalised form equals an
        original's, or whose nearest original has cosine >= ``near_threshold``; 0 for the
        original itself), ``near_copy_share``, ``vendi_drop`` and ``distinct_2_drop`` (relative
        drop against the original) and ``verdict`` (``warn`` on a drop of 20% or more, else
        ``ok``; diversity never fails a gate on its own).

    Examples
    --------
    >>> items = pd.DataFrame({"text": [f"my order {i} never arrived, word{i}" for i in range(30)]
    ...                       + [f"my order {i} never arrived, word{i}!" for i in range(30)],
    ...                       "source": ["original"] * 30 + ["synthetic"] * 30})
    >>> table = diversity_by_source(items, sample_size=20, seeds=1, dims=8)
    >>> table[["source", "n", "near_copies_of_original"]].to_numpy().tolist()
    [['original', 30, 0], ['synthetic', 30, 30]]
    """
    frame = _items_frame(items, text_column)
    if source_column not in frame.columns:
        raise MetricInputError(f"items need a {source_column!r} column to compare sources")
    sources = frame[source_column].astype(str)
    if original not in set(sources):
        raise MetricInputError(f"no items with {source_column} == {original!r}; sources are {sorted(set(sources))}")
    corpus = _embed_corpus(frame[text_column], dims, seed)
    sample = min(sample_size, int(sources.value_counts().min()))
    is_original = (sources == original).to_numpy()
    original_codes = np.unique(corpus.codes[is_original])
    usable = np.linalg.norm(corpus.vectors, axis=1) > 0
    original_usable = original_codes[usable[original_codes]]
    k = min(MAX_CLUSTERS, max(1, int(round(math.sqrt(is_original.sum())))))
    centroids = _fit_clusters(corpus.vectors[original_usable], corpus.counts[original_usable], k, seed)
    rows = []
    for source in [original] + sorted(set(sources) - {original}):  # one iteration per source
        mask = (sources == source).to_numpy()
        rows.append(_source_row(source, corpus, mask, original_usable, centroids, sample, seeds, dims,
                                near_threshold, seed, is_original=source == original))
    table = pd.DataFrame(rows)
    reference = table.iloc[0]
    table["vendi_drop"] = 1 - table["vendi_score"] / reference["vendi_score"]
    table["distinct_2_drop"] = 1 - table["distinct_2"] / reference["distinct_2"]
    dropped = (table[["vendi_drop", "distinct_2_drop"]] >= DIVERSITY_DROP_WARN).any(axis=1)
    table["verdict"] = np.where(dropped, "warn", "ok")
    return table[SOURCE_COLUMNS]


def _source_row(source, corpus, mask, original_codes, centroids, sample, seeds, dims, threshold, seed, *, is_original) -> dict:
    positions = np.flatnonzero(mask)
    subset = _Corpus([corpus.raw[i] for i in positions], corpus.normalized.iloc[positions].reset_index(drop=True),
                     *_recode(corpus, positions))
    samples = _sample_positions(len(positions), sample, seeds)
    nonzero = np.linalg.norm(subset.vectors, axis=1) > 0
    normalized = subset.normalized.to_numpy()
    lexical = np.array([[distinct_n(list(normalized[s]), 1), distinct_n(list(normalized[s]), 2),
                         compression_ratio([subset.raw[i] for i in s])] for s in samples], dtype=float)
    vendi = [vendi_score(subset.vectors[np.unique(c)], np.unique(c, return_counts=True)[1])
             for c in (subset.codes[s][nonzero[subset.codes[s]]] for s in samples) if c.size]
    usable = np.flatnonzero(nonzero)
    cells, _ = _nearest_centroid(subset.vectors[usable], centroids)
    coverage, evenness = cluster_figures(np.bincount(cells, weights=subset.counts[usable], minlength=len(centroids)))
    exact, near, _ = _duplicate_flags(subset, threshold, seed, centroids)
    copies = 0 if is_original else _near_copies(corpus, positions, original_codes, centroids, threshold)
    return {"source": source, "n": len(positions), "n_sample": int(len(samples[0])),
            "distinct_1": _nanmean(lexical[:, 0]), "distinct_2": _nanmean(lexical[:, 1]),
            "compression_ratio": _nanmean(lexical[:, 2]), "vendi_score": _nanmean(np.array(vendi, dtype=float)),
            "cluster_coverage": coverage, "cluster_evenness": evenness,
            "exact_duplicate_rate": float(exact.mean()), "near_duplicate_rate": float(near.mean()),
            "near_copies_of_original": int(copies), "near_copy_share": copies / len(positions)}


def _recode(corpus: _Corpus, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    codes, distinct = pd.factorize(corpus.codes[positions])
    return codes, corpus.vectors[np.asarray(distinct)], np.bincount(codes, minlength=len(distinct))


def _near_copies(corpus: _Corpus, positions: np.ndarray, original_codes: np.ndarray, centroids: np.ndarray,
                 threshold: float) -> int:
    codes = corpus.codes[positions]
    exact = np.isin(codes, original_codes)
    distinct = np.unique(codes[~exact])
    distinct = distinct[np.linalg.norm(corpus.vectors[distinct], axis=1) > 0]
    pairs = near_pairs(corpus.vectors[distinct], corpus.vectors[original_codes], threshold, centroids=centroids,
                       neighbours=1)
    near_codes = distinct[np.unique(pairs["query"].to_numpy())]
    return int(exact.sum() + np.isin(codes[~exact], near_codes).sum())
