"""
`allennlp spert-convert`: brat standoff, doccano JSONL, Label Studio JSON and DyGIE jsonl <-> SpERT JSON.
Each conversion stands with its format in `formats/` (the hub: `formats/spert_documents.py`).
"""

import argparse
import json
import logging
from collections import Counter
from pathlib import Path

from allennlp.commands.subcommand import Subcommand

logger = logging.getLogger(__name__)

CONVERSIONS = {
    "brat-to-spert": "a brat folder (.txt + .ann, annotation.conf) -> SpERT JSON + types file",
    "spert-to-brat": "SpERT JSON, gold or `allennlp predict` output -> a brat folder (scores as notes)",
    "dygie-to-spert": "DyGIE jsonl -> SpERT JSON (a document per sentence, orig_id doc_key#N)",
    "spert-to-dygie": "SpERT JSON -> DyGIE jsonl (sentences doc_key#N joined into documents)",
    "doccano-to-spert": "a doccano JSONL export (relation extraction) -> SpERT JSON + types file",
    "spert-to-doccano": "SpERT JSON, gold or `allennlp predict` output -> doccano JSONL to import (no scores)",
    "labelstudio-to-spert": "a Label Studio JSON export (labels and relations) -> SpERT JSON + types file",
    "spert-to-labelstudio": "SpERT JSON -> Label Studio tasks to import: predictions (pre-annotations, with "
    "scores) from `allennlp predict` output, annotations from gold",
}
# the conversions into SpERT JSON that write a types file and a report of what cannot be represented
TO_SPERT_WITH_REPORT = ("brat-to-spert", "doccano-to-spert", "labelstudio-to-spert")


@Subcommand.register("spert-convert")
class Convert(Subcommand):
    """`allennlp spert-convert CONVERSION INPUT OUTPUT`."""

    def add_subparser(self, parser: argparse._SubParsersAction) -> argparse.ArgumentParser:
        description = (
            "Convert annotated data between SpERT JSON and brat, doccano, Label Studio or DyGIE:\n"
            + "\n".join(f"  {name}: {what}" for name, what in CONVERSIONS.items())
        )
        subparser = parser.add_parser(
            self.name,
            description=description,
            help="Convert between SpERT JSON and brat, doccano, Label Studio or DyGIE.",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        subparser.add_argument("conversion", choices=sorted(CONVERSIONS))
        subparser.add_argument("input", help="input file, or folder for brat-to-spert")
        subparser.add_argument("output", help="output file, or folder for spert-to-brat")
        subparser.add_argument(
            "--types-file",
            help="*-to-spert: a SpERT types file or brat annotation.conf to validate against and copy "
            "(default: for brat INPUT/annotation.conf if present, else the labels seen); labelstudio-to-spert "
            "keeps a 'bi' relation only of a type it marks symmetric",
        )
        subparser.add_argument(
            "--types-output", help="*-to-spert: where to write the types file (default: OUTPUT_types.json)"
        )
        subparser.add_argument(
            "--report", help="*-to-spert: where to list what could not be represented (default: OUTPUT.report.jsonl)"
        )
        subparser.add_argument("--language", default="en", help="*-to-spert: spaCy language")
        subparser.add_argument(
            "--data-key",
            default="text",
            help="labelstudio-to-spert, spert-to-labelstudio: the key of the text in a task's data",
        )
        written = subparser.add_mutually_exclusive_group()
        written.add_argument(
            "--predictions",
            dest="predictions",
            action="store_const",
            const=True,
            help="spert-to-labelstudio: write predictions (pre-annotations), also from gold input",
        )
        written.add_argument(
            "--annotations",
            dest="predictions",
            action="store_const",
            const=False,
            help="spert-to-labelstudio: write completed annotations, also from model output "
            "(without either: predictions for `allennlp predict` output, annotations for gold)",
        )
        subparser.add_argument(
            "--model-version", default="spert-mt", help="spert-to-labelstudio: the predictions' model_version"
        )
        subparser.add_argument(
            "--from-name",
            default="label",
            help="spert-to-labelstudio: the name of the labeling config's Labels tag",
        )
        subparser.add_argument(
            "--to-name",
            default="text",
            help="spert-to-labelstudio: the name of the labeling config's Text tag",
        )
        subparser.add_argument(
            "--no-ptb-brackets", action="store_true", help="spert-to-dygie: write ( ) [ ] as they are, not -LRB- etc."
        )
        subparser.set_defaults(func=convert_from_args)
        return subparser


def convert_from_args(args: argparse.Namespace) -> None:
    from spert_mt_plugin.formats import doccano, dygie
    from spert_mt_plugin.formats.atomic import atomic_open, write_json, write_text
    from spert_mt_plugin.formats.brat import spert_to_brat
    from spert_mt_plugin.formats.brat_sentences import brat_to_spert
    from spert_mt_plugin.formats.label_studio_conversion import labelstudio_to_spert, spert_to_labelstudio

    output = Path(args.output)
    if args.conversion in TO_SPERT_WITH_REPORT:
        types_file = args.types_file
        if args.conversion == "brat-to-spert":
            if types_file is None and (Path(args.input) / "annotation.conf").is_file():
                types_file = str(Path(args.input) / "annotation.conf")
            documents, types, skipped = brat_to_spert(args.input, types_file, args.language)
        elif args.conversion == "doccano-to-spert":
            documents, types, skipped = doccano.doccano_to_spert(args.input, types_file, args.language)
        else:
            documents, types, skipped = labelstudio_to_spert(args.input, types_file, args.language, args.data_key)
        write_json(documents, str(output))
        types_output = Path(args.types_output or output.with_name(output.stem + "_types.json"))
        write_text(types_output, json.dumps(types.to_json(), indent=2) + "\n")
        report = Path(args.report or str(output) + ".report.jsonl")
        with atomic_open(report) as handle:
            for item in skipped:
                handle.write(json.dumps(item.as_dict(), ensure_ascii=False) + "\n")
        entities = sum(len(d.get("entities", [])) for d in documents)
        relations = sum(len(d.get("relations", [])) for d in documents)
        print(f"{len(documents)} sentences, {entities} entities, {relations} relations -> {output}")
        print(f"types ({'from ' + types_file if types_file else 'labels seen'}) -> {types_output}")
        counts = Counter(item.kind for item in skipped)
        summary = ", ".join(f"{n} {kind}" for kind, n in counts.most_common()) or "none"
        print(f"not representable: {summary} -> {report}")
    elif args.conversion == "spert-to-brat":
        count = spert_to_brat(args.input, str(output))
        print(f"{count} brat documents -> {output}/")
    elif args.conversion == "spert-to-doccano":
        records = doccano.spert_to_doccano(args.input)
        write_json(records, str(output), lines=True)
        print(f"{len(records)} doccano records -> {output} (scores, if any, are left out: doccano has none)")
    elif args.conversion == "spert-to-labelstudio":
        tasks = spert_to_labelstudio(
            args.input, args.data_key, args.predictions, args.model_version, args.from_name, args.to_name
        )
        write_json(tasks, str(output))
        kind = "predictions" if any("predictions" in task for task in tasks) else "annotations"
        print(f"{len(tasks)} Label Studio tasks ({kind}) -> {output}")
    elif args.conversion == "dygie-to-spert":
        documents = dygie.dygie_to_spert(args.input)
        write_json(documents, str(output))
        print(f"{len(documents)} sentences -> {output}")
    else:
        documents = dygie.spert_to_dygie(args.input, ptb_brackets=not args.no_ptb_brackets)
        write_json(documents, str(output), lines=True)
        print(f"{len(documents)} DyGIE documents -> {output}")
