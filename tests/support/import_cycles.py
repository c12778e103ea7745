"""Import cycles inside a package, from grimp's import graph (imports under TYPE_CHECKING left
out: they never run). Run as ``python -m tests.support.import_cycles PACKAGE`` it prints one
cycle a line and exits 1 if there is any."""

from __future__ import annotations

import sys

import grimp


def import_cycles(package: str) -> list[str]:
    """Each group of ``package``'s modules that import one another in a circle: its modules,
    then the shortest cycle through the first (``a, b, c: a -> b -> a``), sorted."""
    graph = grimp.build_graph(package, exclude_type_checking_imports=True, cache_dir=None)
    imports = {m: graph.find_modules_directly_imported_by(m) for m in graph.modules}
    cycles = []
    for group in _strongly_connected(imports):
        if len(group) < 2:
            continue
        first = min(group)
        back = min(
            (graph.find_shortest_chain(importer=b, imported=first) or () for b in imports[first]),
            key=lambda chain: (len(chain) == 0, len(chain)),
        )
        cycles.append(f"{', '.join(sorted(group))}: {' -> '.join([first, *back])}")
    return sorted(cycles)


def _strongly_connected(edges: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's strongly connected components of a directed graph, without recursion."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    group = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.add(member)
                        if member == node:
                            break
                    groups.append(group)
            elif child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(edges.get(child, ())))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return groups


if __name__ == "__main__":
    found = import_cycles(sys.argv[1])
    for cycle in found:
        print(cycle)
    sys.exit(1 if found else 0)
