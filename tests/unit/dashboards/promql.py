"""A small PromQL reader for the dashboard tests: which series an expression selects, with
which label matchers, and which labels it groups them by.

Not a parser: a tokenizer plus enough structure to tell metric names (identifiers followed
by `{` or `[`, or standing alone) from functions (followed by `(`), keywords, label names
inside braces and label lists after `by`/`without`/`on`/`ignoring`/`group_*`. Strings and
range brackets are single tokens, so nothing inside them is read as a name. Anything it
does not know raises, so a test fails rather than reads too little.
"""

import re
from dataclasses import dataclass

TOKEN = re.compile(
    r"""
    (?P<string>"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*'|`[^`]*`)
  | (?P<range>\[[^\]]*\])
  | (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<identifier>[A-Za-z_:][A-Za-z0-9_:]*)
  | (?P<operator>=~|!~|!=|==|<=|>=|[-+*/%^<>=,(){}])
  | (?P<space>\s+)
    """,
    re.VERBOSE,
)
AGGREGATIONS = frozenset(
    {"sum", "min", "max", "avg", "count", "stddev", "stdvar", "topk", "bottomk", "quantile"}
    | {"count_values", "group"}
)
FUNCTIONS = AGGREGATIONS | frozenset(
    {"rate", "irate", "increase", "delta", "idelta", "deriv", "changes", "resets", "vector"}
    | {"histogram_quantile", "label_replace", "label_join", "clamp", "clamp_min", "clamp_max"}
    | {"abs", "ceil", "floor", "round", "scalar", "time", "timestamp", "absent", "sort"}
    | {"sort_desc", "predict_linear", "holt_winters", "absent_over_time"}
    | {f"{kind}_over_time" for kind in ("avg", "min", "max", "sum", "count", "last")}
    | {f"{kind}_over_time" for kind in ("quantile", "stddev", "stdvar", "present")}
)
KEYWORDS = frozenset({"and", "or", "unless", "bool", "offset", "inf", "nan"})
GROUPINGS = frozenset({"by", "without", "on", "ignoring", "group_left", "group_right"})


@dataclass(frozen=True)
class Token:
    kind: str
    text: str


@dataclass(frozen=True)
class Matcher:
    label: str
    op: str
    value: str


@dataclass(frozen=True)
class Selector:
    metric: str
    matchers: tuple[Matcher, ...]


@dataclass(frozen=True)
class Grouping:
    keyword: str
    labels: tuple[str, ...]
    metrics: frozenset[str]  # the series inside the grouped expression


@dataclass(frozen=True)
class Reading:
    selectors: tuple[Selector, ...]
    groupings: tuple[Grouping, ...]

    @property
    def metrics(self) -> set[str]:
        return {selector.metric for selector in self.selectors}

    def labels_of(self, metric: str) -> set[str]:
        """Labels of `metric` the expression matches on or groups by."""
        matched = {m.label for s in self.selectors if s.metric == metric for m in s.matchers}
        grouped = {label for g in self.groupings if metric in g.metrics for label in g.labels}
        return matched | grouped


def tokens(expr: str) -> list[Token]:
    found, position = [], 0
    while position < len(expr):
        match = TOKEN.match(expr, position)
        if not match or not match.lastgroup:
            raise ValueError(f"Cannot read {expr[position:]!r} in {expr!r}")
        if match.lastgroup != "space":
            found.append(Token(match.lastgroup, match.group()))
        position = match.end()
    return found


def _closing(toks: list[Token], opening: int) -> int:
    """The index of the bracket that closes the one at `opening`."""
    pairs = {"(": ")", "{": "}"}
    depth = 0
    for index in range(opening, len(toks)):
        if toks[index].text == toks[opening].text:
            depth += 1
        elif toks[index].text == pairs[toks[opening].text]:
            depth -= 1
            if depth == 0:
                return index
    raise ValueError(f"Unbalanced {toks[opening].text!r}")


def _opening(toks: list[Token], closing: int) -> int:
    depth = 0
    for index in range(closing, -1, -1):
        depth += {")": 1, "(": -1}.get(toks[index].text, 0)
        if depth == 0:
            return index
    raise ValueError("Unbalanced ')'")


def _matchers(toks: list[Token]) -> tuple[Matcher, ...]:
    """`a="x", b=~"y"` as matchers."""
    parts = [t for t in toks if t.text != ","]
    if len(parts) % 3 or any(t.kind != "identifier" for t in parts[::3]):
        raise ValueError(f"Cannot read matchers {' '.join(t.text for t in toks)!r}")
    return tuple(
        Matcher(label.text, op.text, value.text[1:-1])
        for label, op, value in zip(parts[::3], parts[1::3], parts[2::3], strict=True)
    )


def _check_balanced(toks: list[Token]) -> None:
    depth = 0
    for token in toks:
        depth += {"(": 1, "{": 1, ")": -1, "}": -1}.get(token.text, 0)
        if depth < 0:
            break
    if depth:
        raise ValueError(f"Unbalanced brackets in {' '.join(t.text for t in toks)!r}")


def read(expr: str) -> Reading:
    toks = tokens(expr)
    _check_balanced(toks)
    selectors: list[tuple[int, Selector]] = []
    groupings: list[tuple[str, tuple[str, ...], range]] = []
    index = 0
    while index < len(toks):
        token = toks[index]
        following = toks[index + 1].text if index + 1 < len(toks) else ""
        if token.text == "{":
            raise ValueError(f"A selector without a metric name in {expr!r}")
        if token.text == "offset":  # `offset 5m`: a number and a unit follow
            index += 3
        elif token.kind != "identifier" or token.text in KEYWORDS:
            index += 1
        elif token.text in GROUPINGS:
            if following != "(":  # `group_left` may come without labels
                index += 1
                continue
            end = _closing(toks, index + 1)
            labels = tuple(t.text for t in toks[index + 2 : end] if t.text != ",")
            groupings.append((token.text, labels, _scope(toks, index, end)))
            index = end + 1
        elif token.text in AGGREGATIONS and following in ("by", "without"):
            index += 1
        elif following == "(":
            if token.text not in FUNCTIONS:
                raise ValueError(f"Unknown function {token.text!r} in {expr!r}")
            index += 1
        else:
            end = _closing(toks, index + 1) if following == "{" else index
            matchers = _matchers(toks[index + 2 : end]) if following == "{" else ()
            selectors.append((index, Selector(token.text, matchers)))
            index = end + 1
    return Reading(
        selectors=tuple(selector for _, selector in selectors),
        groupings=tuple(
            Grouping(keyword, labels, frozenset(s.metric for at, s in selectors if at in scope))
            for keyword, labels, scope in groupings
        ),
    )


def _scope(toks: list[Token], keyword: int, labels_end: int) -> range:
    """The token range a grouping applies to: the aggregation's argument (`sum by (x) (…)`
    or `sum(…) by (x)`), or the whole expression for vector matching (`on`, `ignoring`…)."""
    if toks[keyword].text in ("by", "without"):
        if keyword > 0 and toks[keyword - 1].text in AGGREGATIONS:
            return range(labels_end + 1, _closing(toks, labels_end + 1) + 1)
        if keyword > 0 and toks[keyword - 1].text == ")":
            return range(_opening(toks, keyword - 1), keyword)
        raise ValueError(f"{toks[keyword].text!r} follows no aggregation")
    return range(len(toks))
