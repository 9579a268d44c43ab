"""Labels along vertical lines (kjlab's steps, a Job's conditions) that neither overlap one another nor
run out of the axes: each label is measured with the figure's renderer and put where it fits.

Steps a moment apart (a patch then a delete, a drain's evictions) have lines a few pixels apart;
their labels, rotated along the lines, would be drawn over each other, and a long label in a short
panel would be cut at the axes' edge.
"""

from __future__ import annotations

from matplotlib.backends.backend_agg import FigureCanvasAgg

GID = "kjlab-line-label"  # how a test (or a caller) finds these labels among an axes' texts


def _renderer(fig):
    if not hasattr(fig.canvas, "get_renderer"):
        FigureCanvasAgg(fig)  # a bare Figure (not pyplot's) has no canvas that can measure text yet
    fig.canvas.draw()  # the layout engine runs here: the axes have their final size before measuring
    return fig.canvas.get_renderer()


def _inside(inner, outer) -> bool:
    return (inner.x0 >= outer.x0 - 0.5 and inner.x1 <= outer.x1 + 0.5
            and inner.y0 >= outer.y0 - 0.5 and inner.y1 <= outer.y1 + 0.5)


def _positions(end: str):
    """Where to try a label: beside its line at its own end (left, then right of the line), then at the
    other end of the line."""
    other = "top" if end == "bottom" else "bottom"
    for at in (end, other):
        for ha in ("right", "left"):
            yield at, ha


def _fit(text, label: str, end: str, fontsize: float, renderer, frame, placed) -> bool:
    """Put ``text`` where it fits (one line, then two, then a smaller font); False if nowhere."""
    wrapped = label.replace(" + ", "\n+ ").replace(" → ", "\n→ ")
    for content, size in ((label, fontsize), (wrapped, fontsize), (wrapped, fontsize - 1)):
        text.set_text(content)
        text.set_fontsize(size)
        for at, ha in _positions(end):
            text.set_y(0.02 if at == "bottom" else 0.98)
            text.set_verticalalignment("bottom" if at == "bottom" else "top")
            text.set_horizontalalignment(ha)
            extent = text.get_window_extent(renderer)
            if _inside(extent, frame) and not any(extent.overlaps(other) for other in placed):
                return True
    return False


def place_line_labels(ax, items, fontsize: float = 6, bbox: dict | None = None) -> list:
    """Draw ``items`` ((x, label, end, colour); end "bottom" or "top") as rotated labels along their
    vertical lines at data x, inside ``ax``: beside its line at its end, else on the line's other side,
    else at the other end; on two lines (split at " + " or " → ") or in a smaller font if that fits.
    A label that fits nowhere joins the label of the line before it ("patch + delete"); if that does
    not fit either, the label is hidden (hidden_labels). Returns the visible Text artists."""
    renderer = _renderer(ax.figure)
    frame = ax.get_window_extent(renderer)
    placed, texts, labels = [], [], []
    for x, label, end, colour in sorted(items, key=lambda item: item[0]):
        text = ax.text(x, 0, label, transform=ax.get_xaxis_transform(), rotation=90, fontsize=fontsize, color=colour,
                       clip_on=True, zorder=6, gid=GID, bbox=bbox)
        text.set_in_layout(False)  # inside the axes: the layout need not make room for it
        if _fit(text, label, end, fontsize, renderer, frame, placed):
            placed.append(text.get_window_extent(renderer))
            texts.append(text)
            labels.append((label, end))
            continue
        if not texts:
            text.set_visible(False)  # the axes are too small for it: unlabelled (hidden_labels)
            continue
        previous, (before, its_end) = texts[-1], labels[-1]
        state = (previous.get_text(), previous.get_fontsize(), previous.get_position(), previous.get_horizontalalignment(),
                 previous.get_verticalalignment())
        joined = f"{before} + {label}"
        kept = placed.pop()
        if _fit(previous, joined, its_end, fontsize, renderer, frame, placed):
            text.remove()
            labels[-1] = (joined, its_end)
            placed.append(previous.get_window_extent(renderer))
            continue
        # No room even joined (lines a pixel or two apart in a short panel): the line stays unlabelled
        # rather than its label drawn over another; hidden_labels() lists it for the caller.
        text_, size, position, ha, va = state
        previous.set_text(text_)
        previous.set_fontsize(size)
        previous.set_position(position)
        previous.set_horizontalalignment(ha)
        previous.set_verticalalignment(va)
        placed.append(kept)
        text.set_visible(False)
    return texts


def overlaps_and_cuts(ax) -> tuple[list, list]:
    """(pairs of labels that overlap, labels not wholly inside the axes) among ``ax``'s line labels,
    measured as the figure is drawn."""
    renderer = _renderer(ax.figure)
    frame = ax.get_window_extent(renderer)
    labels = [t for t in ax.texts if t.get_gid() == GID and t.get_visible()]
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in labels]
    pairs = [(a, b) for i, (a, box_a) in enumerate(boxes) for b, box_b in boxes[i + 1:] if box_a.overlaps(box_b)]
    cut = [label for label, box in boxes if not _inside(box, frame)]
    return pairs, cut


def hidden_labels(ax) -> list[str]:
    """The labels ``place_line_labels`` found no room for on ``ax`` (their lines are drawn unlabelled)."""
    return [t.get_text() for t in ax.texts if t.get_gid() == GID and not t.get_visible()]
