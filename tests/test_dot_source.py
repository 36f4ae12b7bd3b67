"""threatgraph's DOT writer against the oracle it replaced: Graphviz's Python package. Every
diagram a site draws, of the firewall, of a hostile model and of a large generated one, is
written by both and must be the same text; and the quoting agrees with the package's on any
string (the package would pass `<...>` through as an HTML label: that is never asked of it
here, and threatgraph never does it)."""

from contextlib import contextmanager

import graphviz
import pytest
from hypothesis import given
from hypothesis import strategies as st

from threatgraph import pipeline
from threatgraph.config import load_config
from threatgraph.render import dot
from threatgraph.render.dot_source import DotGraph, quote
from threatgraph.site import page_split
from threatgraph.site.pages import SiteWriter

from .conftest import REPO, synthetic_project

HOSTILE = 'Evil "quote" \\ back \\" <b>x</b> \n newline } ]; {{ x }} graph subgraph -1.5 \\'
HOSTILE_MODEL = f'''
from pytm import TM, Boundary, Process, Datastore, Dataflow
tm = TM("hostile")
zone = Boundary({HOSTILE!r})
inner = Boundary("node", inBoundary=zone)
a = Process({HOSTILE + " A"!r}, inBoundary=inner)
b = Datastore('b"];x[label="injected', inBoundary=zone)
c = Process("<b>html</b>")
d = Process("strict")
f = Dataflow(a, b, {HOSTILE + " flow"!r}, protocol='p"];z\\\\', dstPort=1)
g = Dataflow(b, c, "second", isAttack=True)
h = Dataflow(c, d, "", protocol="")
'''


class LibraryGraph:
    """DotGraph's interface over graphviz.Digraph, as the diagrams were written before."""

    def __init__(self, name, graph_attr=None, node_attr=None, edge_attr=None, _graph=None):
        def text(attrs):  # as `dot._text` marked every value before
            return {k: graphviz.nohtml(v) for k, v in attrs.items()} if attrs else attrs

        self.g = _graph if _graph is not None else graphviz.Digraph(
            name, graph_attr=text(graph_attr), node_attr=text(node_attr), edge_attr=text(edge_attr))

    def node(self, name, label=None, **attrs):
        self.g.node(name, label=graphviz.nohtml(label) if label is not None else None,
                    **{k: graphviz.nohtml(v) for k, v in attrs.items()})

    def edge(self, tail, head, label=None, **attrs):
        self.g.edge(tail, head, label=graphviz.nohtml(label) if label is not None else None,
                    **{k: graphviz.nohtml(v) for k, v in attrs.items()})

    def attr(self, **attrs):
        self.g.attr(**{k: graphviz.nohtml(v) for k, v in attrs.items()})

    @contextmanager
    def subgraph(self, name):
        with self.g.subgraph(name=name) as sub:
            yield LibraryGraph(name, _graph=sub)

    @property
    def source(self):
        return self.g.source


def _diagrams(root, large=None):
    a = pipeline.check(load_config(root), use_evidence=False)
    pending = {}
    page_split.generate(SiteWriter(a, lambda name, source: pending.__setitem__(name, source), large), split=False)
    return pending


def _both(pending, monkeypatch):
    ours = {name: source() for name, source in sorted(pending.items())}
    with monkeypatch.context() as m:
        m.setattr(dot, "DotGraph", LibraryGraph)
        theirs = {name: source() for name, source in sorted(pending.items())}
    return ours, theirs


@pytest.fixture
def hostile(project):
    project.write("model.py", HOSTILE_MODEL)
    project.write("threats/main.yaml", """
        threats:
          - id: TH-1
            title: 'a "title" \\ with <b>markup</b>'
            stride: [tampering]
            severity: high
            applies_to:
              - flows: {id: [f, g]}
          - id: TH-2
            title: elements
            stride: [spoofing]
            severity: low
            applies_to:
              - elements: {kind: process}
        """)
    project.write("mitigations/main.yaml", "mitigations: []\n")
    return project


def test_every_firewall_diagram_is_the_text_graphviz_package_wrote(monkeypatch):
    ours, theirs = _both(_diagrams(REPO), monkeypatch)
    assert len(ours) > 150 and ours == theirs


def test_hostile_names_are_written_as_the_package_quotes_them(hostile, monkeypatch):
    ours, theirs = _both(_diagrams(hostile.root), monkeypatch)
    assert ours == theirs
    overview = ours["overview"]
    assert 'label="b\\"];x[label=\\"injected"' in overview  # the quote escaped: no attribute injected
    assert 'label="<b>html</b>"' in overview  # text, never an HTML label
    assert 'label="strict"' in overview  # a DOT keyword is quoted


def test_large_layout_summaries_are_the_same_text(tmp_path, monkeypatch):
    root = synthetic_project(600, tmp_path / "large")
    pending = _diagrams(root, large=True)
    ours, theirs = _both(pending, monkeypatch)
    assert any(src.startswith("digraph summary") for src in ours.values())  # the grouped diagrams ran
    assert ours == theirs


@pytest.mark.filterwarnings("ignore::graphviz.exceptions.DotSyntaxWarning")  # a final odd backslash: the
@given(st.text(max_size=60))                                                # package warns, and quotes it alike
def test_quoting_agrees_with_the_package_on_any_text(text):
    assert quote(text) == graphviz.quoting.quote(graphviz.nohtml(text))


def test_a_subgraph_nests_and_attributes_are_ordered():
    g = DotGraph("g", graph_attr={"rankdir": "LR", "label": "x y"})
    with g.subgraph("cluster_a") as sub:
        sub.attr(style="dashed", label="A")
        with sub.subgraph("cluster_b") as inner:
            inner.node("n1", label="one", shape="box", color="#fff")
    g.edge("n1", "n2")
    assert g.source == ('digraph g {\n\tgraph [label="x y" rankdir=LR]\n\tsubgraph cluster_a {\n\t\tlabel=A style=dashed\n'
                        '\t\tsubgraph cluster_b {\n\t\t\tn1 [label=one color="#fff" shape=box]\n\t\t}\n\t}\n'
                        '\tn1 -> n2\n}\n')
