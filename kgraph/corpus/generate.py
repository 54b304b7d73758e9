"""Write a synthetic corpus shaped like the real one, for benchmarks and tests at scale.

The articles are made up from a small vocabulary; the shape is the real
corpus's (CORPUS.md): about forty subjects of very different sizes, a few
spelled two ways by case, one folder of negative ids; most articles in small
clusters of related articles, a quarter with no link at all, one modest giant
piece with hub articles; stale, broken, mismatched, duplicate and self links
at the real rates; copies of articles in a second subject folder; keywords
with a heavy tail; answers with escaped line breaks, LaTeX and code fences.

Files are made as plain strings (no YAML dumping), one cluster of related
articles at a time, and written by a background thread while the next ones
are made: memory stays small however many articles are asked for.

It draws every choice from one ``random.Random(seed)`` and never reads the
clock: the same count and seed write the same bytes.
"""

from __future__ import annotations

import datetime
import os
import random
import re
from bisect import bisect
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path

from kgraph.corpus.text import topic_key

__all__ = ["GeneratedCorpus", "generate_corpus"]


@dataclass(frozen=True, slots=True)
class GeneratedCorpus:
    """What :func:`generate_corpus` wrote.

    The figures are those ``kgraph check`` reports for the folder, under
    CORPUS.md's semantics (a duplicate of a stale entry counts as stale and
    as a duplicate).

    Attributes
    ----------
    root : str
        The folder written.
    seed : int
        The seed it was written with.
    files, articles : int
        Files written, and the distinct articles (ids) among them.
    duplicate_articles : int
        Articles with a copy in a second (or third) subject folder.
    topics, subjects : int
        Subject folders, and the subject spellings that files use.
    references : int
        Related entries over every file.
    broken_links, wanted_articles, stale_links, url_mismatches, duplicate_links, self_links : int
        The entries ingest finds at fault, and the missing ids broken ones name.
    bytes : int
        The size of all the files.
    """

    root: str
    seed: int
    files: int
    articles: int
    duplicate_articles: int
    topics: int
    subjects: int
    references: int
    broken_links: int
    wanted_articles: int
    stale_links: int
    url_mismatches: int
    duplicate_links: int
    self_links: int
    bytes: int


# --- the shape -----------------------------------------------------------------------

#: Subjects, most articles first, with their second spelling where they have one.
#: The last one is the small folder of negative ids.
_SUBJECTS: tuple[tuple[str, str | None], ...] = (
    ("Psychology", None),
    ("Education Studies", "Education studies"),
    ("Mathematics", None),
    ("Computer Science", "Computer science"),
    ("Physics", None),
    ("Chemistry", None),
    ("Engineering", None),
    ("Biology", None),
    ("Economics", None),
    ("Philosophy and Greek Myths", None),
    ("Biotechnology", None),
    ("Digital Media", "Digital media"),
    ("History", None),
    ("Political Science", "Political science"),
    ("Sociology", None),
    ("Literature", None),
    ("Business", None),
    ("Medicine", None),
    ("Others", None),
    ("Statistics", None),
    ("Linguistics", None),
    ("Environmental Science", None),
    ("Music", None),
    ("Law", None),
    ("Astronomy", None),
    ("Nursing", None),
    ("Geography", None),
    ("Anthropology", None),
    ("Art History", None),
    ("Accounting", None),
    ("Marketing", None),
    ("Nutrition", None),
    ("Neuroscience", None),
    ("Geology", None),
    ("Public Health", None),
    ("Science", None),
    ("Philosophy", None),
    ("Mythology", None),
    ("Ecology", None),
    ("College Basketball", None),
)
_NEGATIVE = len(_SUBJECTS) - 1
_FOLDERS = {
    spelling: topic_key(spelling)
    for name, second in _SUBJECTS
    for spelling in (name, second)
    if spelling is not None
}
# Zipf-Mandelbrot sizes: the largest subject holds about a fifth of the articles,
# the smallest a few in ten thousand.
_SUBJECT_CUM = tuple(accumulate((rank + 5) ** -2.2 for rank in range(_NEGATIVE)))
_SECOND_SPELLING = 0.33
_NEGATIVE_SHARE = 0.00065
_OTHER_SUBJECT = 0.1  # a cluster member from another subject than its cluster's

_SINGLE_SHARE = 0.28  # articles with no related entry, and none pointing to them
_GIANT_SHARE = 0.05
_GIANT_MIN = 40
_GIANT_GLOBAL = 0.13  # a giant-piece link that leaves its block of one subject
# Hubs of a giant piece: one member in so many, drawn with Zipf-Mandelbrot weights.
_HUB_SPACING = 33
_HUB_OFFSET = 6
# A member's weight in its block before any link, next to one per link received:
# the higher, the flatter the in-degrees of a cluster.
_NEW_MEMBER_WEIGHT = 3
# Cluster sizes: a power law over 2..30, a bump at the site's batch size of 30,
# and a thin tail to 100.
_SIZES = tuple(range(2, 101))
_SIZE_CUM = tuple(
    accumulate(
        s**-1.7 * (1.0 if s <= 30 else 0.05) + (0.004 if 26 <= s <= 30 else 0.0) for s in _SIZES
    )
)
# Related entries of a cluster member: 1 to 5, mostly 5; a cluster's first may have none.
_ENTRIES_CUM = (7, 17, 30, 52, 100)
_ROOT_WITHOUT_ENTRIES = 0.12
_SINGLE_BROKEN = 0.02  # a lone article whose only entries point nowhere

# Related entries that are not plain: rates per entry after the first.
_DUPLICATE = 0.115
_BROKEN = 0.008
_SELF = 0.0003
# Rates per entry naming a cluster member.
_STALE = 0.031
_MISMATCH = 0.021
_GHOSTS_PER_MEMBER = 1 / 40

_COPIED = 0.03
_COPIED_TWICE = 0.01
_NO_INDEX = 0.002
_NO_SCORE = 0.2
_OTHER_SCORE = 0.01
_BLANK_BEFORE_FENCE = 0.045
_PLAIN_TITLE = 0.3
_PLAIN_RELATED_TITLE = 0.025
_LATEX = 0.15
_LATEX_SUBJECTS = frozenset(["Mathematics", "Physics", "Chemistry", "Engineering", "Statistics"])
_CODE = 0.02
_TABLE = 0.003
_SUBJECT_KEYWORD = 0.18

# Ids: consecutive from here, with a gap every few ids; the gaps are the ids that
# no article has, named by stale and broken entries.
_BASE_ID = 1000
_GAP_EVERY = 8
_FIRST_DATE = datetime.date(2024, 11, 21)
_DAYS = 120
_DATES = tuple(str(_FIRST_DATE + datetime.timedelta(days=day)) for day in range(_DAYS))
_ANSWER_MIN = 100
_BATCH = 256  # files handed to the writing thread at a time
_ANSWER_MAX = 5000

# Kinds of related entries, as ingest resolves them.
_PLAIN, _STALE_KIND, _MISMATCH_KIND, _BROKEN_KIND, _SELF_KIND = range(5)

# --- the words -----------------------------------------------------------------------

_NOUNS = (
    "entropy", "photosynthesis", "enzyme activity", "cell membrane", "gene expression",
    "natural selection", "mitosis", "protein folding", "immune response", "homeostasis",
    "neural plasticity", "working memory", "cognitive load", "motivation", "attachment",
    "social learning", "perception", "emotional regulation", "classroom assessment",
    "curriculum design", "inclusive education", "student engagement", "peer feedback",
    "formative assessment", "linear algebra", "eigenvalues", "integration", "derivatives",
    "probability", "number theory", "graph theory", "topology", "differential equations",
    "vector spaces", "recursion", "hash tables", "sorting algorithms", "compilers",
    "operating systems", "neural networks", "databases", "encryption", "concurrency",
    "type systems", "quantum mechanics", "thermodynamics", "electromagnetism", "momentum",
    "relativity", "wave interference", "optics", "nuclear decay", "chemical bonding",
    "reaction rates", "equilibrium", "acids and bases", "oxidation", "catalysis",
    "organic synthesis", "stoichiometry", "stress analysis", "heat transfer", "fluid flow",
    "control systems", "signal processing", "circuit design", "material fatigue",
    "supply and demand", "inflation", "monetary policy", "market failure", "game theory",
    "opportunity cost", "trade policy", "fiscal policy", "labor markets", "Greek tragedy",
    "the Socratic method", "virtue ethics", "Stoicism", "the Trojan War", "Athena", "Zeus",
    "epistemology", "free will", "gene editing", "biofuels", "vaccine development",
    "fermentation", "cloning", "media literacy", "visual storytelling", "social media",
    "digital marketing", "video editing", "the Industrial Revolution", "the Cold War",
    "colonialism", "the Renaissance", "democracy", "federalism", "public opinion",
    "social stratification", "urbanization", "narrative voice", "symbolism", "metaphor",
    "leadership", "corporate strategy", "risk management", "clinical diagnosis",
    "pharmacology", "patient care", "regression analysis", "hypothesis testing",
    "sampling bias", "syntax", "phonology", "language acquisition", "climate change",
    "biodiversity", "renewable energy", "harmony", "rhythm", "contract law",
    "constitutional rights", "stellar evolution", "black holes", "plate tectonics",
    "cultural identity", "kinship", "impressionism", "Baroque art", "double-entry bookkeeping",
    "auditing", "brand positioning", "consumer behavior", "dietary fiber", "metabolism",
    "synaptic transmission", "neurotransmitters", "mineral formation", "erosion",
    "disease prevention", "epidemiology", "the scientific method", "food webs",
    "ecosystem services", "March Madness", "the NCAA tournament", "player development",
)  # fmt: skip
_KEYWORD_NOUNS = tuple(noun.removeprefix("the ") for noun in _NOUNS)
_ADJECTIVES = (
    "advanced", "applied", "basic", "classical", "cognitive", "comparative", "computational",
    "critical", "cultural", "dynamic", "early", "economic", "effective", "environmental",
    "ethical", "experimental", "formal", "global", "historical", "human", "ideal",
    "informal", "local", "long-term", "modern", "molecular", "moral", "national",
    "natural", "practical", "public", "quantitative", "qualitative", "rapid", "regional",
    "social", "statistical", "strategic", "structural", "sustainable", "systematic",
    "technical", "theoretical", "traditional", "urban", "visual", "digital", "clinical",
    "linear", "nonlinear",
)  # fmt: skip
_ASPECTS = (
    "analysis", "theory", "models", "applications", "principles", "assessment", "dynamics",
    "methods", "history", "ethics", "limitations", "mechanisms", "strategies", "outcomes",
    "frameworks", "examples", "challenges", "research", "techniques", "policy",
    "development", "evaluation", "design", "measurement", "regulation", "trends",
)  # fmt: skip
#: Keywords of every subject, commonest first: the heavy tail's head.
_GENERAL = (
    "critical thinking", "collaboration", "communication", "education", "decision-making",
    "feedback", "clarity", "historical context", "engagement", "problem-solving",
    "mental health", "philosophical implications", "innovation", "sustainability",
    "ethics", "research", "technology", "motivation", "learning", "creativity",
    "efficiency", "data analysis", "accessibility", "teamwork", "adaptability",
    "cultural context", "social impact", "policy", "best practices", "case studies",
    "real-world applications", "interdisciplinary approach", "evidence", "diversity",
    "leadership", "transparency", "accountability", "curiosity", "resilience",
    "self-reflection", "experimentation", "measurement", "modeling", "visualization",
    "documentation", "evaluation", "performance", "reliability", "scalability", "safety",
    "public awareness", "long-term effects", "regulation", "equity", "inclusion",
    "professional development", "lifelong learning", "knowledge transfer", "planning",
    "risk assessment", "cost-benefit analysis", "simulation", "optimization",
    "interpretation", "argumentation", "peer review", "citizenship", "global perspective",
    "community", "wellbeing", "identity", "power dynamics", "trust", "habits",
)  # fmt: skip
_GENERAL_CUM = tuple(accumulate(1 / (rank + 10) for rank in range(len(_GENERAL))))
# Keyword words are drawn by Zipf weights, in a fixed scrambled order of the lists.
_NOUN_CUM = tuple(accumulate(1 / ((rank * 37) % len(_NOUNS) + 8) for rank in range(len(_NOUNS))))
_ADJECTIVE_CUM = tuple(
    accumulate(1 / ((rank * 17) % len(_ADJECTIVES) + 3) for rank in range(len(_ADJECTIVES)))
)

_QUESTIONS = (
    "What is the role of {a} in {b}?",
    "How does {a} influence {b}?",
    "What are the key differences between {a} and {b}?",
    "Why is {a} important in {s}?",
    "How can {a} be applied to {b}?",
    "What are the main challenges of {a}?",
    "Explain the concept of {a} and its significance.",
    "How has {a} evolved over time?",
    "What factors affect {a}?",
    "Compare and contrast {a} and {b}.",
    "What is the relationship between {a} and {b}?",
    "How do researchers study {a}?",
    "What are common misconceptions about {a}?",
    "Can you provide examples of {a} in {b}?",
    "What are the benefits and drawbacks of {a}?",
    "How is {a} measured in {s}?",
    "Describe the process of {a}.",
    "What are the implications of {a} for {b}?",
)
_SENTENCES = (
    "In {s}, {a} is closely linked to {b}, which shapes how {c} develops over time.",
    "A useful way to think about {a} is as a balance between {b} and {c}.",
    "Researchers often measure {a} by observing changes in {b} under controlled conditions.",
    "**{A}** refers to the way {b} responds when {c} changes.",
    "A common misconception is that {a} and {b} are the same; they are related but distinct.",
    "Historically, the study of {a} began with simple observations of {b}.",
    "Modern approaches combine {a} with {b} to explain {c} more fully.",
    "For example, a change in {a} can lead to a measurable shift in {b}.",
    "This matters because {a} affects how people understand {b} in everyday life.",
    "The main limitation is that {a} depends on assumptions about {b} that do not always hold.",
    "Several factors contribute to {a}, including {b}, {c} and the wider context.",
    "In practice, experts weigh {a} against clear criteria before drawing conclusions on {b}.",
    "Another key aspect is the interaction between {a} and {c}.",
    "When {a} increases, {b} tends to follow, although the effect is rarely linear.",
    "Understanding {a} helps explain why {b} varies from one situation to another.",
    "Critics argue that {a} overlooks the role of {b}.",
    "Case studies show that {a} can improve outcomes related to {c}.",
    "It is important to distinguish between short-term and long-term effects of {a}.",
    "The concept of {a} also appears in discussions of {b} and {c}.",
    "Taken together, these points show that {a} is central to {s}.",
)  # fmt: skip
_LATEX_SNIPPETS = (
    r"For any $x \neq 0$, the ratio $\frac{x}{x} = 1$ holds.",
    r"The gradient $\nabla f(x)$ points in the direction of steepest ascent.",
    r"$$\begin{aligned} f(x) &= x^2 + 1 \\\n f'(x) &= 2x \end{aligned}$$",
    r"If $\neg p$ holds, then $p \notin S$ and the frequency $\nu$ stays fixed.",
    r"The free energy change is $\Delta G = \Delta H - T \Delta S$.",
    r"\[ \sum_{i=1}^{n} i = \frac{n(n+1)}{2} \]",
    r"The matrix $\begin{pmatrix} a & b \\ c & d \end{pmatrix}$ is invertible if $ad - bc \neq 0$.",
    r"Here $\mu = \frac{1}{n} \sum_{i=1}^{n} x_i$ is the sample mean.",
)
_CODE_SNIPPETS = (
    r"```python\ndef mean(values):\n    return sum(values) / len(values)\n```",
    r"```sql\nSELECT topic, COUNT(*) FROM articles GROUP BY topic;\n```",
    r"```javascript\nconst total = items.reduce((sum, x) => sum + x, 0);\n```",
    r"```python\nfor n in range(3):\n    print(n, n ** 2)\n```",
)
_CLOSINGS = (
    "In summary, {a} is a key idea for understanding {b}.",
    "Overall, {a} remains an active area of study in {s}.",
    "In conclusion, {a} connects many of the central questions of {s}.",
)
_DESCRIPTIONS = (
    "{A} plays a central role in {b}, shaping how {c} is understood and applied in {s}.",
    "An overview of {a}: what it is, how it relates to {b}, and why it matters in {s}.",
    "This answer explains {a}, its connection to {b}, and common misconceptions about {c}.",
)
_SEPARATORS = (" ", r"\n\n", r"\n- ")
_SEPARATOR_CUM = (70, 92, 100)
_SENTENCE_POOL = 1500

_SLUG_DROP = re.compile(r"[^a-z0-9 ]+")


def _slug(title: str) -> str:
    """The file stem of a title, as the site makes it: punctuation dropped, words joined by ``-``.

    >>> _slug("What is the Na-K pump's role? (Q7)")
    'what-is-the-nak-pumps-role-q7'
    """
    return "-".join(_SLUG_DROP.sub("", title.lower()).split())


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


# --- one cluster of related articles -------------------------------------------------


class _Member:
    """An article of the cluster being written: what other files need to name it."""

    __slots__ = (
        "entries",
        "entry",
        "id",
        "ideas",
        "number",
        "retired",
        "spelling",
        "stem",
        "subject",
        "theme",
        "title",
        "url",
    )

    def __init__(self, number: int, article_id: int, subject: int, theme: str) -> None:
        self.number = number
        self.id = article_id
        self.subject = subject
        self.theme = theme
        self.spelling = ""
        self.title = ""
        self.stem = ""
        self.url = ""
        self.entry = ""  # its related entry's lines after the id
        self.ideas = ("", "")  # the two ideas its title names
        self.retired = 0  # its old id, once a stale entry has named it
        self.entries: list[tuple[int, int, str]] = []


def _write_files(batch: list[tuple[str, bytes]]) -> None:
    for path, data in batch:
        # "x": never over an existing file, so two articles can never share a path.
        with open(path, "xb") as handle:
            handle.write(data)


class _FileSink:
    """Writes files in a background thread, in batches, while the next ones are made.

    Creating a file is mostly the kernel's work, which runs without the GIL:
    on two cores, making and writing files overlap.
    """

    def __init__(self) -> None:
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kgraph-generate")
        self.batch: list[tuple[str, bytes]] = []
        self.pending: Future[None] | None = None

    def write(self, path: str, data: bytes) -> None:
        self.batch.append((path, data))
        if len(self.batch) >= _BATCH:
            self.flush()

    def flush(self) -> None:
        """Hand the batch to the thread once the one before is written (raising its error)."""
        if self.pending is not None:
            self.pending.result()
        self.pending = self.pool.submit(_write_files, self.batch) if self.batch else None
        self.batch = []

    def close(self) -> None:
        """Write what is left and stop the thread."""
        try:
            self.flush()
            self.flush()
        finally:
            self.pool.shutdown(wait=True, cancel_futures=True)


class _Ghosts:
    """The missing articles a cluster's broken entries name, made when first named."""

    def __init__(self, writer: _Writer, subject: int, theme: str, size: int) -> None:
        self.writer = writer
        self.subject = subject
        self.theme = theme
        # Several entries of a cluster name the same missing article.
        self.slots = max(1, round(size * _GHOSTS_PER_MEMBER))
        self.made: dict[int, str] = {}

    def entry(self) -> tuple[int, int, str]:
        """A broken entry: its kind, its key (negative: no member) and its lines."""
        ghost = self.writer.rng.randrange(self.slots)
        lines = self.made.get(ghost)
        if lines is None:
            lines = self.made[ghost] = self.writer.ghost(self.subject, self.theme)
        return (_BROKEN_KIND, -1 - ghost, lines)


class _Writer:
    """Writes the corpus unit by unit, counting what it writes."""

    def __init__(self, root: Path, rng: random.Random, count: int, sink: _FileSink) -> None:
        self.root = root
        self.sink = sink
        self.rng = rng
        self.count = count
        self.positive = 0  # positive ids given so far
        self.negative = 0
        self.gaps = 0  # ids of gaps handed out so far
        self.ghosts = 0
        self.folders: set[str] = set()
        self.spellings: set[str] = set()
        self.files = 0
        self.duplicate_articles = 0
        self.references = 0
        self.kinds = [0] * 5
        self.duplicates = 0
        self.self_links = 0
        self.wanted = 0
        self.bytes = 0
        draw = rng.choice
        self.pool = tuple(
            draw(_SENTENCES).format(
                s=draw(_SUBJECTS)[0].lower(), a=(a := draw(_NOUNS)), A=_capital(a),
                b=draw(_NOUNS), c=draw(_NOUNS),
            )
            for _ in range(_SENTENCE_POOL)
        )  # fmt: skip

    # -- ids, subjects and titles

    def _new_id(self, subject: int) -> int:
        if subject == _NEGATIVE:
            self.negative += 1
            return -self.negative
        p = self.positive
        self.positive += 1
        return _BASE_ID + p + p // _GAP_EVERY + 1

    def _gap_id(self) -> int:
        """An id that no article has, near the ids being given now."""
        self.gaps = max(self.gaps + 1, self.positive // _GAP_EVERY)
        return _BASE_ID + (_GAP_EVERY + 1) * self.gaps

    def draw_subject(self, exclude: int = -1) -> int:
        """A subject by its share of the articles (never the negative-id folder's)."""
        while True:
            subject = bisect(_SUBJECT_CUM, self.rng.random() * _SUBJECT_CUM[-1])
            if subject != exclude:
                return subject

    def _spelling(self, subject: int) -> str:
        name, second = _SUBJECTS[subject]
        if second is not None and self.rng.random() < _SECOND_SPELLING:
            return second
        return name

    def _question(self, theme: str, subject: str, number: int) -> tuple[str, str, str]:
        """A title made unique by the article's number, and the two ideas it names."""
        rng = self.rng
        a = theme if rng.random() < 0.6 else rng.choice(_NOUNS)
        b = rng.choice(_NOUNS)
        if a[0].islower() and not a.startswith("the ") and rng.random() < 0.3:
            a = f"{rng.choice(_ADJECTIVES)} {a}"
        title = rng.choice(_QUESTIONS).format(a=a, b=b, s=subject.lower())
        return f"{_capital(title)} (Q{number})", a, b

    def _name(self, member: _Member) -> None:
        """Give a member its title, file stem, url and the entry that names it."""
        member.spelling = self._spelling(member.subject)
        member.title, a, b = self._question(member.theme, member.spelling, member.number)
        member.ideas = (a, b)
        member.stem = _slug(member.title)
        member.url = f"/learn/{_FOLDERS[member.spelling]}/questions/{member.stem}"
        member.entry = self._entry_lines(member.title, member.spelling, member.url)

    def _entry_lines(self, title: str, subject: str, url: str) -> str:
        if self.rng.random() < _PLAIN_RELATED_TITLE:
            lines = f"    title: {title}\n"
        else:
            lines = f"    title: >-\n        {title}\n"
        return f"{lines}    subject: {subject}\n    url: {url}\n"

    # -- links

    def _link_targets(
        self, members: list[_Member], blocks: list[int], giant: bool
    ) -> list[list[int]]:
        """The distinct cluster members each member names, by preferential attachment.

        ``blocks[j]`` is the block (one subject) of member ``j``. The first target
        of every member but the first is an earlier member, so the cluster is one
        piece; later ones favour members already named often. In a giant piece,
        a block's first member and some other links name a hub: one of a few
        members, the first ones named by many, that join the blocks into one piece.
        """
        rng = self.rng
        size = len(members)
        leave = _GIANT_GLOBAL if giant else 0.0
        hubs = range(0, size, max(1, _HUB_SPACING))
        hub_cum = tuple(accumulate(1 / (rank + _HUB_OFFSET) for rank in range(len(hubs))))

        def hub(before: int) -> int:
            for _attempt in range(8):
                drawn = hubs[bisect(hub_cum, rng.random() * hub_cum[-1])]
                if drawn < before:
                    return drawn
            return 0

        # Each member once, plus once per link it received from its block.
        by_block: dict[int, list[int]] = {}
        targets: list[list[int]] = [[] for _ in range(size)]
        wanted: list[int] = []
        for j in range(size):
            urn = by_block.setdefault(blocks[j], [])
            if j:
                if urn:
                    target = rng.choice(urn)
                    urn.append(target)
                else:
                    target = hub(j)
                targets[j].append(target)
            urn.extend((j,) * _NEW_MEMBER_WEIGHT)
            if j == 0 and rng.random() < _ROOT_WITHOUT_ENTRIES:
                wanted.append(0)
            else:
                entries = bisect(_ENTRIES_CUM, rng.random() * 100) + 1
                wanted.append(min(entries, size - 1))
        for j in range(size):
            chosen = targets[j]
            block = by_block[blocks[j]]
            for _ in range(wanted[j] - len(chosen)):
                for _attempt in range(6):
                    far = leave and rng.random() < leave
                    target = hub(size) if far else rng.choice(block)
                    if target != j and target not in chosen:
                        chosen.append(target)
                        if not far:
                            block.append(target)
                        break
        return targets

    def _plain_entry(
        self, members: list[_Member], source: int, target: int
    ) -> tuple[int, int, str]:
        rng = self.rng
        member = members[target]
        roll = rng.random()
        if roll < _STALE:
            if not member.retired:
                member.retired = self._gap_id()
            return (_STALE_KIND, target, f"    id: {member.retired}\n{member.entry}")
        if roll < _STALE + _MISMATCH:
            other = rng.randrange(len(members) - 1)
            other = other + 1 if other >= target else other
            entry = member.entry.replace(member.url, members[other].url)
            return (_MISMATCH_KIND, target, f"    id: {member.id}\n{entry}")
        return (_PLAIN, target, f"    id: {member.id}\n{member.entry}")

    def _entries(
        self,
        members: list[_Member],
        source: int,
        targets: list[int],
        ghosts: _Ghosts,
    ) -> list[tuple[int, int, str]]:
        """The related entries of one member: its targets, with the corpus's faults."""
        rng = self.rng
        entries: list[tuple[int, int, str]] = []
        slots = len(targets)
        if slots and slots < 5 and rng.random() < _DUPLICATE:
            slots += 1  # room for a duplicate even when the cluster is small
        pending = iter(targets)
        for slot in range(slots):
            roll = rng.random() if slot else 1.0
            if roll < _DUPLICATE:
                entries.append(rng.choice(entries))
                continue
            if roll < _DUPLICATE + _BROKEN:
                entries.append(ghosts.entry())
                continue
            if roll < _DUPLICATE + _BROKEN + _SELF:
                member = members[source]
                entries.append((_SELF_KIND, source, f"    id: {member.id}\n{member.entry}"))
                continue
            # The first slot always takes the first target, which keeps the cluster in one piece.
            target = next(pending, None)
            if target is None:
                break
            entries.append(self._plain_entry(members, source, target))
        return entries

    def ghost(self, subject: int, theme: str) -> str:
        """The entry lines naming a new missing article, which broken entries name."""
        self.ghosts += 1
        ghost_id = self._gap_id()
        spelling = self._spelling(subject)
        # Numbered past every article: its title and url are no article's.
        title = self._question(theme, spelling, self.count + self.ghosts)[0]
        url = f"/learn/{_FOLDERS[spelling]}/questions/{_slug(title)}"
        return f"    id: {ghost_id}\n{self._entry_lines(title, spelling, url)}"

    def _count_links(self, entries: list[tuple[int, int, str]]) -> None:
        """Count one file's entries as ingest resolves them."""
        seen: set[int] = set()
        self.references += len(entries)
        for kind, key, _ in entries:
            self.kinds[kind] += 1
            if key in seen:
                self.duplicates += 1
                continue
            seen.add(key)
            if kind == _SELF_KIND:
                self.self_links += 1

    # -- units

    def cluster(self, size: int, subject: int, date: str, giant: bool = False) -> None:
        """Write a cluster of ``size`` related articles (one article: a lone one).

        A giant piece is made of blocks, each of its own subject, joined by hubs.
        """
        rng = self.rng
        members: list[_Member] = []
        blocks: list[int] = []
        block_left = 0
        block = -1
        block_subject = subject
        theme = ""
        for _ in range(size):
            if block_left == 0:
                block += 1
                block_left = self._cluster_size() if giant else size
                theme = rng.choice(_NOUNS)
                if giant and block:
                    block_subject = self.draw_subject()
            member_subject = block_subject
            if subject != _NEGATIVE and rng.random() < _OTHER_SUBJECT:
                member_subject = self.draw_subject()
            number = self.positive + self.negative + 1
            member = _Member(number, self._new_id(member_subject), member_subject, theme)
            self._name(member)
            members.append(member)
            blocks.append(block)
            block_left -= 1
        ghosts = _Ghosts(self, subject, members[0].theme, size)
        if size == 1:
            if rng.random() < _SINGLE_BROKEN:
                members[0].entries = [ghosts.entry()]
        else:
            targets = self._link_targets(members, blocks, giant)
            for j, member in enumerate(members):
                member.entries = self._entries(members, j, targets[j], ghosts)
        for j in range(size):
            self._write_article(members, j, date)
        self.wanted += len(ghosts.made)

    def _cluster_size(self) -> int:
        return _SIZES[bisect(_SIZE_CUM, self.rng.random() * _SIZE_CUM[-1])]

    def _keywords(self, subject: str, a: str, b: str, theme: str) -> str:
        """About twelve keywords: a few common to many articles, most to a few or one."""
        rng = self.rng
        words = [a, b, theme]
        if rng.random() < _SUBJECT_KEYWORD:
            words.append(subject.lower())
        words += rng.choices(_GENERAL, cum_weights=_GENERAL_CUM, k=rng.randint(0, 2))
        # Pairs of Zipf-drawn words: their frequencies spread from common to rare.
        nouns = rng.choices(_KEYWORD_NOUNS, cum_weights=_NOUN_CUM, k=4)
        adjectives = rng.choices(_ADJECTIVES, cum_weights=_ADJECTIVE_CUM, k=2)
        aspects = rng.choices(_ASPECTS, k=7)
        words += [f"{adjectives[i]} {nouns[i]}" for i in range(rng.randint(1, 2))]
        words += [f"{nouns[2]} {aspects[5]}", f"{nouns[3]} {aspects[6]}"]
        # Triples drawn evenly: most of them name one article.
        for i in range(rng.randint(3, 6)):
            words.append(f"{rng.choice(_ADJECTIVES)} {rng.choice(_KEYWORD_NOUNS)} {aspects[i]}")
        unique = dict.fromkeys(word.lower() for word in words)
        return (", " if rng.random() < 0.8 else ",").join(unique)

    def _answer(self, subject: str, a: str, b: str) -> str:
        rng = self.rng
        length = _ANSWER_MIN + int((_ANSWER_MAX - 400) * rng.betavariate(2.0, 2.0))
        fill = {"a": a, "A": _capital(a), "b": b, "c": rng.choice(_NOUNS), "s": subject.lower()}
        parts = [rng.choice(_SENTENCES).format_map(fill)]
        size = len(parts[0])
        sentences = rng.choices(self.pool, k=length // 90 + 2)
        separators = rng.choices(_SEPARATORS, cum_weights=_SEPARATOR_CUM, k=len(sentences))
        for sentence, separator in zip(sentences, separators, strict=True):
            if size >= length or size + len(sentence) > _ANSWER_MAX - 450:
                break
            parts.append(separator)
            parts.append(sentence)
            size += len(separator) + len(sentence)
        latex = _LATEX * (2.5 if subject in _LATEX_SUBJECTS else 0.6)
        if rng.random() < latex:
            # After a sentence, before the separator that follows it.
            at = 2 * rng.randrange(len(parts) // 2 + 1) + 1
            parts.insert(at, r"\n\n" + rng.choice(_LATEX_SNIPPETS))
        if rng.random() < _CODE:
            parts.append(r"\n\n" + rng.choice(_CODE_SNIPPETS))
        if rng.random() < _TABLE:
            parts.append(rf"\n\n| Term | Meaning |\n|---|---|\n| {a} | {b} |")
        if size > 600:
            parts.append(r"\n\n" + rng.choice(_CLOSINGS).format_map(fill))
        answer = "".join(parts)
        if len(answer) < _ANSWER_MIN:
            answer += " " + rng.choice(self.pool)
        return answer

    def _write_article(self, members: list[_Member], index: int, date: str) -> None:
        """Write a member's file, and its copies in other subject folders."""
        rng = self.rng
        member = members[index]
        a, b = member.ideas
        fill = {"a": a, "A": _capital(a), "b": b, "c": member.theme, "s": member.spelling.lower()}
        description = rng.choice(_DESCRIPTIONS).format_map(fill)
        keywords = self._keywords(member.spelling, a, b, member.theme)
        answer = self._answer(member.spelling, a, b)
        title = member.title
        if rng.random() < _PLAIN_TITLE:
            titles = f"title: {title}\narticle_title: {title}\n"
        else:
            titles = f"title: >-\n    {title}\narticle_title: >-\n    {title}\n"
        no_index = "no_index: True\n" if rng.random() < _NO_INDEX else ""
        score_roll = rng.random()
        if score_roll < _NO_SCORE:
            score = ""
        elif score_roll < _NO_SCORE + _OTHER_SCORE:
            score = f"score: {rng.choice(('0.0', '1.0', '2.5', '4.5', '5.0'))}\n"
        else:
            score = "score: -1.0\n"
        closing = "\n---\n\n&nbsp;" if rng.random() < _BLANK_BEFORE_FENCE else "---\n\n&nbsp;"
        # Everything but the subject, url and related entries, shared by the copies.
        head = f"---\n_schema: default\nid: {member.id}\ndate: {date}\n{titles}"
        middle = (
            f"  page_description: >-\n    {description}\n  page_keywords: >-\n    {keywords}\n"
            f"author: QuickTakes\nquestion: >-\n    {title}\n{no_index}answer: >-\n    {answer}\n"
        )

        def write(subject: str, folder: str, entries: list[tuple[int, int, str]]) -> None:
            related = "".join(
                f"related_article{rank}:\n{lines}" for rank, (_, _, lines) in enumerate(entries, 1)
            )
            text = (
                f"{head}date_format: MMM DD, YYYY\npost_on_text: Posted on\nseo:\n"
                f"  title: QuickTakes | {subject}\n{middle}subject: {subject}\n"
                f"file_name: {member.stem}.md\nurl: /learn/{folder}/questions/{member.stem}\n"
                f"{score}{related}{closing}"
            )
            self._write_file(folder, member.stem, text)
            self.spellings.add(subject)
            self._count_links(entries)

        write(member.spelling, _FOLDERS[member.spelling], member.entries)
        if member.subject == _NEGATIVE or rng.random() >= _COPIED:
            return
        self.duplicate_articles += 1
        copies = 2 if rng.random() < _COPIED_TWICE else 1
        taken = {member.subject}
        for _ in range(copies):
            subject = self.draw_subject(exclude=member.subject)
            if subject in taken:
                continue
            taken.add(subject)
            spelling = self._spelling(subject)
            write(spelling, _FOLDERS[spelling], self._copy_entries(members, index))

    def _copy_entries(self, members: list[_Member], index: int) -> list[tuple[int, int, str]]:
        """A copy's related list: the article's, with an entry dropped or replaced."""
        rng = self.rng
        entries = list(members[index].entries)
        if len(entries) > 1 and rng.random() < 0.4:
            entries.pop()
        if len(members) > 2 and entries and rng.random() < 0.5:
            named = {key for _, key, _ in entries}
            target = rng.randrange(len(members))
            if target != index and target not in named:
                at = rng.randrange(len(entries))
                entries[at] = self._plain_entry(members, index, target)
        return entries

    def _write_file(self, folder: str, stem: str, text: str) -> None:
        if folder not in self.folders:
            (self.root / folder).mkdir(exist_ok=True)
            self.folders.add(folder)
        data = text.encode("utf-8")
        self.sink.write(os.path.join(self.root, folder, f"{stem}.md"), data)
        self.files += 1
        self.bytes += len(data)


def _plan(rng: random.Random, count: int) -> tuple[list[int], int]:
    """The units to write, in order: cluster sizes (negative: the negative-id folder's).

    Also returns the position of the giant piece among them (``-1``: none).
    """
    negative = max(round(count * _NEGATIVE_SHARE), 1 if count >= 100 else 0)
    giant = round(count * _GIANT_SHARE)
    giant = giant if giant >= _GIANT_MIN else 0
    singles = min(round(count * _SINGLE_SHARE), count - negative - giant)
    units = [1] * singles
    rest = count - negative - giant - singles
    while rest > 0:
        size = min(_SIZES[bisect(_SIZE_CUM, rng.random() * _SIZE_CUM[-1])], rest)
        units.append(size)
        rest -= size
    while negative > 0:
        size = min(rng.randint(2, 8), negative)
        units.append(-size)
        negative -= size
    rng.shuffle(units)
    if not giant:
        return units, -1
    at = rng.randrange(len(units) // 4, len(units) * 3 // 4 + 1)
    units.insert(at, giant)
    return units, at


def generate_corpus(count: int, root: str | os.PathLike[str], *, seed: int = 0) -> GeneratedCorpus:
    """Write ``count`` made-up articles, shaped like the real corpus, into folder ``root``.

    About 3% of the articles also get a copy in a second subject folder, so
    the folder holds a few more files than articles. The same ``count`` and
    ``seed`` always write the same bytes.

    Parameters
    ----------
    count : int
        Distinct articles to write (at least 1).
    root : path
        The folder to write into: created if missing, and refused unless empty.
    seed : int, optional
        Seed of the generator's own random numbers.

    Returns
    -------
    GeneratedCorpus
        What was written, with the figures ``kgraph check`` will find.

    Raises
    ------
    ValueError
        When ``count`` is below 1, or ``root`` is a file or a non-empty folder.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     corpus = generate_corpus(300, Path(tmp) / "corpus", seed=7)
    ...     folders = sorted(p.name for p in Path(tmp, "corpus").iterdir())
    >>> corpus.articles, corpus.files >= 300, corpus.references > 300
    (300, True, True)
    >>> "psychology" in folders and "college-basketball" in folders
    True
    """
    if count < 1:
        raise ValueError(f"count must be at least 1, got {count}")
    target = Path(root)
    if target.exists():
        if not target.is_dir():
            raise ValueError(f"cannot generate a corpus into {root}: it is not a folder")
        if any(target.iterdir()):
            raise ValueError(f"cannot generate a corpus into {root}: the folder is not empty")
    target.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    units, giant_at = _plan(rng, count)
    sink = _FileSink()
    writer = _Writer(target, rng, count, sink)
    try:
        for position, size in enumerate(units):
            date = _DATES[position * _DAYS // len(units)]
            if size < 0:
                writer.cluster(-size, _NEGATIVE, date)
            else:
                writer.cluster(size, writer.draw_subject(), date, giant=position == giant_at)
    finally:
        sink.close()
    return GeneratedCorpus(
        root=os.fspath(root),
        seed=seed,
        files=writer.files,
        articles=count,
        duplicate_articles=writer.duplicate_articles,
        topics=len(writer.folders),
        subjects=len(writer.spellings),
        references=writer.references,
        broken_links=writer.kinds[_BROKEN_KIND],
        wanted_articles=writer.wanted,
        stale_links=writer.kinds[_STALE_KIND],
        url_mismatches=writer.kinds[_MISMATCH_KIND],
        duplicate_links=writer.duplicates,
        self_links=writer.self_links,
        bytes=writer.bytes,
    )
