"""
The report of the annotations a reader of character-offset annotation (doccano, Label Studio)
could not represent: counted in the log and listed, one JSON object a line, in the reader's
`report_file`, as the brat reader does.
"""

import json
import logging
from collections import Counter
from pathlib import Path
from typing import List, Optional

from spert_mt_plugin.formats.brat import Skipped

logger = logging.getLogger(__name__)


def report_skipped(file_path: str, skipped: List[Skipped], report_file: Optional[str]) -> None:
    """Logs how many annotations of `file_path` were left out, by kind, and appends them to `report_file`."""
    if skipped:
        counts = Counter(item.kind for item in skipped)
        logger.warning(
            "%s: %d annotations cannot be represented and were left out: %s%s",
            file_path,
            len(skipped),
            ", ".join(f"{count} {kind}" for kind, count in counts.most_common()),
            f" (listed in {report_file})" if report_file else " (set report_file for the list)",
        )
    if report_file:
        path = Path(report_file)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as handle:
            for item in skipped:
                handle.write(json.dumps(item.as_dict(), ensure_ascii=False) + "\n")
