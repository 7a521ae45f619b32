"""Readable bibliography labels: "Gretton et al. 2012" instead of pybtex's alpha "[GBR+12]".

Registers a pybtex formatting style ``authoryear`` (the ``unsrt`` layout, sorted by author,
year and title, with author–year labels) that ``bibtex_default_style`` in ``_config.yml``
selects.  Labels of entries with the same authors and year get "a", "b", ... appended.
"""

from __future__ import annotations

from collections import Counter

from pybtex.plugin import register_plugin
from pybtex.style.formatting.unsrt import Style as UnsrtStyle
from pybtex.style.labels import BaseLabelStyle


def _last_name(person) -> str:
    words = person.prelast_names + person.last_names
    text = " ".join(words)
    for brace in "{}":
        text = text.replace(brace, "")
    return text.replace('\\"o', "ö").replace('\\"u', "ü").replace('\\"a', "ä")


class AuthorYearLabelStyle(BaseLabelStyle):
    """``Lin 1991``, ``Pan and Yang 2010``, ``Gretton et al. 2012``."""

    def _label(self, entry) -> str:
        people = entry.persons.get("author") or entry.persons.get("editor") or []
        names = [_last_name(p) for p in people]
        if not names:
            who = entry.fields.get("title", entry.key)[:20]
        elif len(names) == 1:
            who = names[0]
        elif len(names) == 2:
            who = f"{names[0]} and {names[1]}"
        else:
            who = f"{names[0]} et al."
        return f"{who} {entry.fields.get('year', 'n.d.')}"

    def format_labels(self, sorted_entries):
        entries = list(sorted_entries)
        labels = [self._label(e) for e in entries]
        counts, seen = Counter(labels), Counter()
        for label in labels:
            if counts[label] > 1:
                seen[label] += 1
                yield label + "abcdefghijklmnopqrstuvwxyz"[seen[label] - 1]
            else:
                yield label


class AuthorYearStyle(UnsrtStyle):
    default_label_style = "authoryear"
    default_sorting_style = "author_year_title"


register_plugin("pybtex.style.labels", "authoryear", AuthorYearLabelStyle)
register_plugin("pybtex.style.formatting", "authoryear", AuthorYearStyle)


def setup(app):
    return {"parallel_read_safe": True, "parallel_write_safe": True}
