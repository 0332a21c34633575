"""
How far a trained SpERT.MT model's entity class scores are from the decision threshold: the
diagnosis behind `head_lr` (docs/results.md, "Why the heads have their own learning rate";
docs/head_tuning.md, "Diagnosis").

    .venv/bin/python benchmarks/head_scores.py MODEL.tar.gz DATA.json [--threshold 0.85]

Prints, over the candidate spans of DATA (use a dev set): for gold entities, how often the gold
class is the top-scoring one, how often its score reaches theta, and the gold-class score's mean
and median; for non-entities, the mean best score and how often it reaches theta.
"""

import argparse
import statistics

import torch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("archive")
    parser.add_argument("data")
    parser.add_argument("--threshold", type=float, default=0.85)
    parser.add_argument("--batch-size", type=int, default=8)
    args = parser.parse_args()

    from allennlp.data.data_loaders import SimpleDataLoader
    from allennlp.models.archival import load_archive

    import spert_mt_plugin  # noqa: F401
    from spert_mt_plugin.modules.heads import MultiTaskHead

    archive = load_archive(args.archive)
    model, reader = archive.model, archive.dataset_reader
    if not isinstance(model.entity_head, MultiTaskHead):
        raise SystemExit(f"{args.archive}: not a multi-task model (the scores are probabilities)")
    model.eval()
    captured = []
    model.entity_head.register_forward_hook(lambda module, inputs, output: captured.append(output.scores))
    instances = list(reader.read(args.data))
    loader = SimpleDataLoader(instances, args.batch_size, vocab=model.vocab)
    gold_scores, gold_top, non_entity_best = [], [], []
    with torch.no_grad():
        for batch in loader:
            captured.clear()
            model(**batch)
            scores = captured[0]  # the first call scores every candidate span
            real = batch["spans"][..., 0] >= 0
            classes = model.labels.entity_classes(batch["span_labels"], real)
            gold = real & (classes >= 0)
            gold_class_scores = scores.gather(-1, classes.clamp(min=0).unsqueeze(-1)).squeeze(-1)
            gold_scores += gold_class_scores[gold].tolist()
            gold_top += (scores.argmax(-1) == classes)[gold].tolist()
            non_entity_best += scores.max(-1).values[real & (classes < 0)].tolist()
    theta = args.threshold
    print(f"{args.archive} on {args.data}: {len(gold_scores)} gold spans, {len(non_entity_best)} other candidates")
    print(
        f"gold spans: top class is gold {100 * statistics.fmean(gold_top):.1f} %, "
        f"gold-class score >= theta {100 * statistics.fmean(s >= theta for s in gold_scores):.1f} %, "
        f"mean {statistics.fmean(gold_scores):.2f}, median {statistics.median(gold_scores):.2f}"
    )
    print(
        f"non-entities: best score >= theta {100 * statistics.fmean(s >= theta for s in non_entity_best):.2f} %, "
        f"mean best score {statistics.fmean(non_entity_best):.2f}"
    )


if __name__ == "__main__":
    main()
