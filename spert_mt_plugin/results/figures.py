"""Writing a drawn figure (learning curves, sweeps, paired differences, threshold curves) to an image file."""

from pathlib import Path
from typing import Optional

from spert_mt_plugin.formats.atomic import atomic_open
from spert_mt_plugin.results.runs import ResultsError


def save_figure(figure, output: str, title: Optional[str], caption: str) -> None:
    """
    Titles `figure` (the caption under the optional title), writes it to `output` (PNG, or the
    image format its suffix names) and closes it. A suffix matplotlib cannot write is a
    `ResultsError`.
    """
    import matplotlib.pyplot as plt

    figure.suptitle(f"{title}\n{caption}" if title else caption, fontsize="medium")
    figure.tight_layout()
    # A file object has no name to take the format from: the output's suffix gives it.
    image_format = Path(output).suffix[1:].lower() or "png"
    try:
        supported = figure.canvas.get_supported_filetypes()
        if image_format not in supported:
            raise ResultsError(
                f"{output}: matplotlib cannot write .{image_format} images "
                f"(give one of: {', '.join(sorted(supported))})"
            )
        with atomic_open(output, "wb") as handle:
            figure.savefig(handle, dpi=110, format=image_format)
    finally:
        plt.close(figure)
