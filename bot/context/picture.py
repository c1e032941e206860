"""A PNG of a service's neighbourhood in the context graph, drawn with networkx and matplotlib.

Both libraries are imported on the first picture, not at start-up (start-up time and idle memory
are benchmarked: bench/startup.py), and the drawing runs in a worker thread on a Figure of its own
with the Agg canvas, never pyplot's global state.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from bot.context.graph import Edge, Node, NodeKind

if TYPE_CHECKING:
    from matplotlib.axes import Axes

_COLOURS = {
    NodeKind.SERVICE: "#4c78a8",
    NodeKind.WORKLOAD: "#72b7b2",
    NodeKind.K8S_SERVICE: "#54a24b",
    NodeKind.INGRESS: "#eeca3b",
    NodeKind.HELM_RELEASE: "#b279a2",
    NodeKind.ARGOCD_APP: "#ff9da6",
    NodeKind.TARGET: "#9d755d",
    NodeKind.ALERT: "#e45756",
    NodeKind.AWS_RESOURCE: "#f58518",
}
LABEL_MAX = 28


async def neighbourhood_png(centre: Node, edges: Sequence[Edge], nodes: Mapping[str, Node]) -> bytes:
    return await asyncio.to_thread(_draw, centre, edges, nodes)


def _draw(centre: Node, edges: Sequence[Edge], nodes: Mapping[str, Node]) -> bytes:
    import networkx as nx
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    graph = nx.DiGraph()
    graph.add_node(centre.key)
    for edge in edges:
        graph.add_edge(edge.source, edge.target, relation=str(edge.relation).replace("_", " "))
    figure = Figure(figsize=(10, 7), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    positions = nx.spring_layout(graph, seed=7, k=1.2)
    _draw_on(axes, graph, positions, centre, nodes)
    figure.suptitle(f"{centre.name}: {len(edges)} connections")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", bbox_inches="tight")
    return buffer.getvalue()


def _draw_on(
    axes: Axes, graph: object, positions: dict[str, object], centre: Node, nodes: Mapping[str, Node]
) -> None:
    import networkx as nx

    keys = list(graph.nodes)  # type: ignore[attr-defined]
    colours = [_COLOURS.get(nodes[k].kind, "#bab0ac") if k in nodes else "#bab0ac" for k in keys]
    sizes = [2200 if k == centre.key else 1200 for k in keys]
    labels = {k: _short(nodes[k].label() if k in nodes else k) for k in keys}
    nx.draw_networkx_nodes(graph, positions, ax=axes, node_color=colours, node_size=sizes, alpha=0.9)
    nx.draw_networkx_edges(
        graph, positions, ax=axes, arrows=True, arrowsize=14, node_size=1400, edge_color="#888"
    )
    nx.draw_networkx_labels(graph, positions, labels=labels, ax=axes, font_size=8)
    relations = nx.get_edge_attributes(graph, "relation")
    nx.draw_networkx_edge_labels(graph, positions, edge_labels=relations, ax=axes, font_size=7)
    axes.set_axis_off()


def _short(text: str) -> str:
    return text if len(text) <= LABEL_MAX else "…" + text[-(LABEL_MAX - 1) :]
