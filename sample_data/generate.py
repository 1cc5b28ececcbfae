"""Generate the sample project: a labeling project for fine-tuning a customer-support assistant.

Deterministic (one ``numpy.random.default_rng(SEED)``, no network, no model): running it twice
writes byte-identical files. What it writes, and the characters it plants, are described in
``docs/sample-data.md``; ``planted.json`` records them for tests.

Usage::

    python sample_data/generate.py [OUT_DIR]
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
if str(HERE.parent) not in sys.path:  # run as a script from a source checkout
    sys.path.insert(0, str(HERE.parent))
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import _texts as T  # noqa: E402

from qa import writers  # noqa: E402
from qa.schema import (  # noqa: E402
    AnnotationSet,
    LoadReport,
    QuestionSpec,
    Span,
    canonical_annotations,
    canonical_gold,
    canonical_items,
    questions_table,
)

SEED = 20260302
N_ORIGINAL = 520  # tickets written from templates
N_PARAPHRASES = 66  # `synthetic` paraphrases of originals (same intent and slots, other template)
N_EXACT_DUPLICATES = 4
N_NEAR_DUPLICATES = 10
NEAR_DUPLICATE_PREFIXES = ("Re: ", "FW: ", "Hello again. ", "Any news? ")
FIRST_ITEM_ID = 48213001  # Label Studio task ids of the project (also the Prodigy input hashes)
GOLD_SHARE = 0.10
V1_SHARE = 0.55  # the first 55% of items were labelled under guideline v1
PROJECT_START = pd.Timestamp("2026-03-02T08:00:00Z")
GUIDELINE_CHANGE = pd.Timestamp("2026-03-16T08:00:00Z")
PROJECT_END = pd.Timestamp("2026-03-28T08:00:00Z")
LANGUAGES = ("en", "de", "fr", "es")
LANGUAGE_SHARES = (0.70, 0.12, 0.10, 0.08)
CHANNELS = ("email", "chat", "phone")
CHANNEL_SHARES = (0.5, 0.35, 0.15)
DIFFICULTIES = ("easy", "medium", "hard")
DIFFICULTY_SHARES = (0.5, 0.35, 0.15)
LABELS_PER_ITEM = (3, 4, 5)
LABELS_PER_ITEM_SHARES = (0.75, 0.18, 0.07)
MODEL_ID = "intent-clf-0.3"  # the model_version Label Studio shows for its pre-labels
MODEL_ACCURACY = 0.80


@dataclass(frozen=True)
class Annotator:
    """A simulated annotator. ``accuracy`` is the chance of the true intent on an easy item."""

    annotator_id: str
    character: str
    accuracy: float
    random_share: float  # share of answers drawn uniformly at random (carelessness)
    rating_sd: float  # noise of quality ratings, in rating points
    span_miss: float  # chance of missing a PII span
    span_boundary: float  # chance of an off-by-one span boundary
    lead_time_median_s: float
    assignment_weight: float


ANNOTATORS = (
    Annotator("amir", "expert", 0.96, 0.0, 0.35, 0.02, 0.02, 30.0, 0.9),
    Annotator("bea", "expert", 0.95, 0.0, 0.40, 0.03, 0.03, 34.0, 0.9),
    Annotator("chen", "careless", 0.50, 0.85, 1.40, 0.45, 0.25, 4.0, 1.0),
    Annotator("dana", "drifter", 0.88, 0.0, 0.60, 0.06, 0.08, 22.0, 1.1),
    Annotator("emil", "overuser", 0.86, 0.0, 0.65, 0.08, 0.08, 20.0, 1.0),
    Annotator("fatima", "ordinary", 0.87, 0.0, 0.65, 0.08, 0.10, 24.0, 1.1),
    Annotator("goran", "ordinary", 0.85, 0.0, 0.70, 0.10, 0.10, 19.0, 1.1),
)
OVERUSED_LABEL = "complaint"
OVERUSE_RATE = 0.30  # emil answers `complaint` on this share of non-complaint items
DRIFT = {"annotator": "dana", "batch": "v2", "from": "how_to", "to": "feature_request", "rate": 0.60}
DIFFICULTY_ACCURACY_FACTOR = {"easy": 1.0, "medium": 0.95, "hard": 0.78}
DIFFICULTY_TIME_FACTOR = {"easy": 1.0, "medium": 1.3, "hard": 1.8}

SLOT = re.compile(r"\{(\w+)\}")


# ---------------------------------------------------------------------------------------------
# Tickets
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Recipe:
    """Everything that fixes a ticket's text; rendering a recipe twice gives the same text."""

    language: str
    intent: str
    template: str
    second_thought: str
    signature: str
    slots: tuple[tuple[str, str], ...]
    noise_seed: int
    noise_level: float


def pick(rng: np.random.Generator, options, p=None):
    return options[int(rng.choice(len(options), p=p))]


def person(rng: np.random.Generator, language: str) -> tuple[str, str]:
    first, last = pick(rng, T.FIRST_NAMES[language]), pick(rng, T.LAST_NAMES[language])
    local = f"{first}.{last}".lower().replace("'", "").replace(" ", "")
    local = local.translate(str.maketrans("éèüöäíáóúç", "eeuoaiaouc"))
    if rng.random() < 0.3:
        local = f"{first[0]}{last}".lower().translate(str.maketrans("éèüöäíáóúç'", "eeuoaiaouc "))
        local = local.replace(" ", "")
    return f"{first} {last}", f"{local}@{pick(rng, T.EMAIL_DOMAINS)}"


def slot_values(rng: np.random.Generator, language: str) -> dict[str, str]:
    name, email = person(rng, language)
    a = int(rng.integers(100, 9999))
    phone = pick(rng, T.PHONE_FORMATS[language]).format(a=a, b=int(rng.integers(10, 99)), c=int(rng.integers(10, 99)))
    order = pick(rng, T.ORDER_FORMATS).format(
        n=int(rng.integers(100000, 999999)), m=int(rng.integers(1000, 9999)), k=int(rng.integers(1000, 9999))
    )
    values = {name_: pick(rng, options) for name_, options in T.SLOT_VALUES.items()}
    values.update(name=name, email=email, phone=phone, order=order, amount=pick(rng, T.AMOUNTS),
                  date=pick(rng, T.DATES[language]))
    return values


def new_recipe(rng: np.random.Generator, intent: str, language: str, difficulty: str, channel: str) -> Recipe:
    templates = T.TEMPLATES[language][intent]
    second = ""
    if difficulty == "hard":
        # hard tickets carry a second intent, in English for every language (a common mix)
        second = T.SECOND_THOUGHTS[T.CONFUSABLE[intent][0]]
    signature = pick(rng, T.SIGNATURES[language]) if rng.random() < 0.55 else ""
    noise = {"email": 0.15, "chat": 0.45, "phone": 0.25}[channel] + (0.15 if difficulty != "easy" else 0.0)
    return Recipe(language, intent, pick(rng, templates), second, signature,
                  tuple(sorted(slot_values(rng, language).items())), int(rng.integers(2**31)), noise)


def render(recipe: Recipe) -> tuple[str, tuple[Span, ...], dict[str, tuple[int, int]]]:
    """The ticket text, its true PII spans, and where the non-PII product slot landed."""
    rng = np.random.default_rng(recipe.noise_seed)
    slots = dict(recipe.slots)
    source = recipe.template + recipe.second_thought + recipe.signature
    lowercase = rng.random() < recipe.noise_level * 0.5
    pieces: list[str] = []
    spans: list[Span] = []
    products: dict[str, tuple[int, int]] = {}
    position = 0
    for index, piece in enumerate(SLOT.split(source)):
        if index % 2 == 0:
            piece = noisy(piece, rng, recipe.noise_level, lowercase)
        else:
            slot = piece
            piece = slots[slot]
            if slot in T.PII_SLOTS:
                spans.append(Span(position, position + len(piece), T.PII_SLOTS[slot]))
            elif slot == "product" and "product" not in products:
                products["product"] = (position, position + len(piece))
        pieces.append(piece)
        position += len(piece)
    text = "".join(pieces)
    if rng.random() < recipe.noise_level * 0.3:
        if text.endswith(".") and (not spans or spans[-1].end <= len(text.rstrip("."))):
            text = text.rstrip(".")
    return text, tuple(spans), products


def noisy(literal: str, rng: np.random.Generator, level: float, lowercase: bool) -> str:
    """Realistic noise on the literal parts of a ticket (never on the PII, so offsets hold)."""
    if lowercase:
        literal = literal.lower()
    words = literal.split(" ")
    for i, word in enumerate(words):
        if len(word) >= 5 and word.isalpha() and rng.random() < level * 0.08:
            j = int(rng.integers(1, len(word) - 2))
            words[i] = word[:j] + word[j + 1] + word[j] + word[j + 2 :]
    literal = " ".join(words)
    if rng.random() < level * 0.1:
        literal = literal.replace(". ", ".  ", 1)
    return literal


# ---------------------------------------------------------------------------------------------
# Items
# ---------------------------------------------------------------------------------------------


def make_items(rng: np.random.Generator) -> tuple[pd.DataFrame, dict]:
    """Items (text, reply, metadata) with their true labels, and the planted duplicates."""
    recipes, meta = [], []
    for _ in range(N_ORIGINAL):
        intent = pick(rng, T.INTENTS, T.INTENT_SHARES)
        language = pick(rng, LANGUAGES, LANGUAGE_SHARES)
        difficulty = pick(rng, DIFFICULTIES, DIFFICULTY_SHARES)
        channel = pick(rng, CHANNELS, CHANNEL_SHARES)
        recipes.append(new_recipe(rng, intent, language, difficulty, channel))
        meta.append({"language": language, "channel": channel, "difficulty": difficulty, "source": "original"})
    paraphrase_of = {}
    for source in rng.choice(N_ORIGINAL, size=N_PARAPHRASES, replace=False):
        original = recipes[int(source)]
        others = [t for t in T.TEMPLATES[original.language][original.intent] if t != original.template]
        template = pick(rng, others) if others else original.template
        paraphrase_of[len(recipes)] = int(source)
        recipes.append(Recipe(original.language, original.intent, template, original.second_thought,
                              original.signature, original.slots, int(rng.integers(2**31)), original.noise_level))
        meta.append({**meta[int(source)], "source": "synthetic"})
    duplicate_of, near_duplicate_of = {}, {}
    sources = rng.choice(N_ORIGINAL, size=N_EXACT_DUPLICATES + N_NEAR_DUPLICATES, replace=False)
    for rank, source in enumerate(sources):
        original = recipes[int(source)]
        if rank < N_EXACT_DUPLICATES:
            duplicate_of[len(recipes)] = int(source)
            recipes.append(original)  # the customer sent the same ticket twice
        else:
            near_duplicate_of[len(recipes)] = int(source)
            # the same ticket resent as a reply, re-typed: a prefix and fresh noise
            template = pick(rng, NEAR_DUPLICATE_PREFIXES) + original.template
            recipes.append(Recipe(original.language, original.intent, template, original.second_thought,
                                  original.signature, original.slots, int(rng.integers(2**31)), original.noise_level + 0.4))
        meta.append({**meta[int(source)], "channel": pick(rng, CHANNELS, CHANNEL_SHARES)})
    order = rng.permutation(len(recipes))  # duplicates and paraphrases land anywhere in the queue
    position_of = {int(old): new for new, old in enumerate(order)}
    rows = []
    for new, old in enumerate(order):
        recipe = recipes[int(old)]
        text, spans, products = render(recipe)
        reply, reply_kind, quality = make_reply(rng, recipe)
        rows.append({"item_id": str(FIRST_ITEM_ID + new), "text": text, "reply": reply, **meta[int(old)],
                     "intent": recipe.intent, "quality": quality, "reply_kind": reply_kind, "pii": spans,
                     "product_span": products.get("product")})
    items = pd.DataFrame(rows)
    as_id = lambda index: str(FIRST_ITEM_ID + position_of[index])  # noqa: E731
    planted_items = {
        "exact_duplicates": sorted([as_id(c), as_id(o)] for c, o in duplicate_of.items()),
        "near_duplicates": sorted([as_id(c), as_id(o)] for c, o in near_duplicate_of.items()),
        "paraphrases": sorted([as_id(c), as_id(o)] for c, o in paraphrase_of.items()),
    }
    return items, planted_items


def make_reply(rng: np.random.Generator, recipe: Recipe) -> tuple[str, str, int]:
    kind = pick(rng, T.REPLY_KINDS, T.REPLY_KIND_SHARES)
    slots = dict(recipe.slots)
    if kind in ("specific", "adequate"):
        reply = T.REPLIES[kind][recipe.intent].format(**slots)
    elif kind == "generic":
        reply = T.GENERIC_REPLY
    elif kind == "wrong_policy":
        reply = pick(rng, T.WRONG_POLICY_REPLIES)
    else:
        other = pick(rng, [i for i in T.INTENTS if i != recipe.intent])
        reply = T.REPLIES["specific"][other].format(**slots)
    quality = T.REPLY_KIND_QUALITY[kind]
    if recipe.language != "en" and quality > 1:
        quality -= 1  # the assistant answered in English: the customer wrote in another language
    return reply, kind, quality


# ---------------------------------------------------------------------------------------------
# Annotations
# ---------------------------------------------------------------------------------------------


def assign(rng: np.random.Generator, items: pd.DataFrame) -> pd.DataFrame:
    """Who labels what, and when: 3 (some 4-5) humans per item; v1 then v2 by queue position."""
    weights = np.array([a.assignment_weight for a in ANNOTATORS])
    rows = []
    n_v1 = int(round(len(items) * V1_SHARE))
    for position, item_id in enumerate(items["item_id"]):
        count = pick(rng, LABELS_PER_ITEM, LABELS_PER_ITEM_SHARES)
        chosen = rng.choice(len(ANNOTATORS), size=count, replace=False, p=weights / weights.sum())
        batch = "v1" if position < n_v1 else "v2"
        start, end = (PROJECT_START, GUIDELINE_CHANGE) if batch == "v1" else (GUIDELINE_CHANGE, PROJECT_END)
        progress = (position if batch == "v1" else position - n_v1) / max(n_v1 if batch == "v1" else len(items) - n_v1, 1)
        for index in sorted(int(c) for c in chosen):
            offset_days = min(progress * 9 + rng.uniform(0, 2.5), 11.9)
            day = start + pd.Timedelta(days=int(offset_days))
            seconds = int(rng.integers(0, 9 * 3600))
            rows.append({"item_id": item_id, "annotator": index, "batch": batch,
                         "created_at": day + pd.Timedelta(seconds=seconds)})
    return pd.DataFrame(rows)


def intent_answer(rng: np.random.Generator, annotator: Annotator, truth: str, difficulty: str, batch: str) -> str:
    if annotator.annotator_id == DRIFT["annotator"] and batch == DRIFT["batch"] and truth == DRIFT["from"]:
        if rng.random() < DRIFT["rate"]:
            return DRIFT["to"]
    if rng.random() < annotator.random_share:
        return pick(rng, T.INTENTS)
    if annotator.character == "overuser" and truth != OVERUSED_LABEL and rng.random() < OVERUSE_RATE:
        return OVERUSED_LABEL
    if rng.random() < annotator.accuracy * DIFFICULTY_ACCURACY_FACTOR[difficulty]:
        return truth
    if rng.random() < 0.75:
        return pick(rng, T.CONFUSABLE[truth], (0.7, 0.3))
    return pick(rng, [i for i in T.INTENTS if i != truth])


def quality_answer(rng: np.random.Generator, annotator: Annotator, truth: int) -> float:
    if rng.random() < annotator.random_share:
        return float(rng.integers(1, 6))
    return float(np.clip(np.rint(truth + rng.normal(0, annotator.rating_sd)), 1, 5))


def pii_answer(rng: np.random.Generator, annotator: Annotator, item: dict) -> tuple[Span, ...]:
    text_length = len(item["text"])
    found = []
    for span in item["pii"]:
        miss = annotator.span_miss * (1.8 if span.label == "NAME" else 1.0)
        if rng.random() < miss:
            continue
        start, end, label = span
        if rng.random() < annotator.span_boundary:
            if rng.random() < 0.5 and end < text_length:
                end += 1  # the trailing full stop or comma comes along
            elif end - start > 3:
                start += 1
        if rng.random() < annotator.random_share * 0.15:
            label = pick(rng, [x for x in T.PII_LABELS if x != label])
        found.append(Span(start, end, label))
    product = item["product_span"]
    if product is not None and rng.random() < annotator.span_miss * 0.8:
        found.append(Span(product[0], product[1], "NAME"))  # a product name taken for a person
    return tuple(sorted(set(found)))


def lead_time_s(rng: np.random.Generator, annotator: Annotator, item: dict) -> float:
    length_factor = 1.0 + len(item["text"]) / 400
    median = annotator.lead_time_median_s * length_factor * DIFFICULTY_TIME_FACTOR[item["difficulty"]]
    return round(float(median * np.exp(rng.normal(0, 0.45))), 3)


def annotate(rng: np.random.Generator, items: pd.DataFrame, assignments: pd.DataFrame) -> pd.DataFrame:
    by_id = {record["item_id"]: record for record in items.to_dict("records")}
    rows = []
    for assignment in assignments.itertuples(index=False):
        annotator = ANNOTATORS[assignment.annotator]
        item = by_id[assignment.item_id]
        common = {"item_id": assignment.item_id, "annotator_id": annotator.annotator_id,
                  "created_at": assignment.created_at, "lead_time_s": lead_time_s(rng, annotator, item),
                  "batch": assignment.batch, "annotator_kind": "human"}
        intent = intent_answer(rng, annotator, item["intent"], item["difficulty"], assignment.batch)
        rows.append({**common, "question": "intent", "label": intent})
        rows.append({**common, "question": "quality", "label": quality_answer(rng, annotator, item["quality"])})
        rows.append({**common, "question": "pii", "label": pii_answer(rng, annotator, item)})
    return pd.DataFrame(rows)


def model_prelabels(rng: np.random.Generator, items: pd.DataFrame, assignments: pd.DataFrame) -> pd.DataFrame:
    """The intent classifier's pre-labels, imported the hour before each batch opened."""
    first_seen = assignments.groupby("item_id")["batch"].first()
    rows = []
    for item in items.itertuples(index=False):
        label = item.intent
        if rng.random() > MODEL_ACCURACY:
            label = pick(rng, T.CONFUSABLE[item.intent] + (pick(rng, T.INTENTS),), (0.6, 0.2, 0.2))
        batch = first_seen[item.item_id]
        imported = (PROJECT_START if batch == "v1" else GUIDELINE_CHANGE) - pd.Timedelta(hours=1)
        rows.append({"item_id": item.item_id, "annotator_id": MODEL_ID, "question": "intent", "label": label,
                     "created_at": imported, "lead_time_s": np.nan, "batch": batch, "annotator_kind": "model"})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------------
# The project
# ---------------------------------------------------------------------------------------------

QUESTIONS = (
    QuestionSpec("intent", "categorical", T.INTENTS),
    QuestionSpec("quality", "ordinal", (1.0, 2.0, 3.0, 4.0, 5.0)),
    QuestionSpec("pii", "spans", T.PII_LABELS),
)
ITEM_COLUMNS = ["item_id", "text", "reply", "language", "channel", "difficulty", "source"]


def build_project(seed: int = SEED) -> tuple[AnnotationSet, pd.DataFrame, dict]:
    """The canonical project, the true labels of every item, and what was planted."""
    rng = np.random.default_rng(seed)
    items, planted_items = make_items(rng)
    assignments = assign(rng, items)
    human = annotate(rng, items, assignments)
    model = model_prelabels(rng, items, assignments)
    gold_ids = sorted(rng.choice(items["item_id"].to_numpy(), size=int(len(items) * GOLD_SHARE), replace=False).tolist(), key=int)
    truth = items.set_index("item_id")
    gold = [{"item_id": i, "question": q, "label": truth.loc[i, column]}
            for i in gold_ids for q, column in (("intent", "intent"), ("quality", "quality"), ("pii", "pii"))]
    for row in gold:
        if row["question"] == "quality":
            row["label"] = float(row["label"])
    annotations = canonical_annotations(pd.concat([human, model], ignore_index=True))
    project = AnnotationSet(
        annotations=annotations,
        items=canonical_items(items[ITEM_COLUMNS]),
        gold=canonical_gold(gold),
        questions=questions_table(list(QUESTIONS)),
        load_report=LoadReport(source="sample_data/generate.py", format="generated",
                               records_read=len(annotations), annotations_loaded=len(annotations)),
    )
    true_labels = items[["item_id", "intent", "quality", "reply_kind", "pii"]].copy()
    return project, true_labels, planted(planted_items, gold_ids)


def planted(planted_items: dict, gold_ids: list[str]) -> dict:
    return {
        "seed": SEED,
        "annotators": {a.annotator_id: a.character for a in ANNOTATORS},
        "experts": [a.annotator_id for a in ANNOTATORS if a.character == "expert"],
        "careless": {"annotator": "chen", "random_share": 0.85, "lead_time_median_s": 4.0},
        "overuse": {"annotator": "emil", "label": OVERUSED_LABEL, "rate": OVERUSE_RATE},
        "drift": DRIFT,
        "ordinary": [a.annotator_id for a in ANNOTATORS if a.character == "ordinary"],
        "model": {"annotator": MODEL_ID, "question": "intent", "accuracy": MODEL_ACCURACY},
        "guideline_change": GUIDELINE_CHANGE.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "gold_items": gold_ids,
        "hard_items_mix_intents": "each hard ticket adds a sentence of the first intent in CONFUSABLE",
        "quality_penalty": "non-English tickets answered in English lose one rating point",
        **planted_items,
    }


def write_truth(true_labels: pd.DataFrame, path: Path) -> None:
    frame = true_labels.copy()
    frame["pii"] = frame["pii"].map(writers.encode_label)
    frame.to_csv(path, index=False, lineterminator="\n")


def main(out_dir: Path = HERE) -> None:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    project, true_labels, planted_characters = build_project()
    writers.write_long_table(project, out_dir / "support_project.csv")
    writers.write_label_studio(project, out_dir / "support_project_labelstudio.json",
                               cancelled=cancelled_tasks(project))
    writers.write_prodigy(project, out_dir / "support_project_prodigy", ignored=ignored_examples(project))
    write_truth(true_labels, out_dir / "support_project_truth.csv")
    (out_dir / "planted.json").write_text(json.dumps(planted_characters, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def cancelled_tasks(project: AnnotationSet) -> list[tuple[str, str]]:
    """A few (item, annotator) pairs that were opened and cancelled in Label Studio."""
    items = project.items["item_id"].tolist()
    return [(items[7], "chen"), (items[140], "goran"), (items[377], "chen"), (items[512], "fatima")]


def ignored_examples(project: AnnotationSet) -> list[tuple[str, str]]:
    """A few (item, annotator) pairs where the annotator pressed ignore in Prodigy."""
    items = project.items["item_id"].tolist()
    return [(items[11], "goran"), (items[230], "chen"), (items[421], "dana")]


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE)
