"""
What the package makes of runs and predictions. For `spert-experiments`: the runs' folders
(`runs`), their test predictions (`predictions`), the mean ± std tables (`tables`) and paired
comparisons of two configs with a significance test over the test sentences (`comparison`); for
`spert-sweep` the F1-against-a-setting table (`sweep`); for `spert-thresholds` the precision-recall
curves over the thresholds (`score_curves`), measured on a labelled file (`threshold_measurement`),
and their report as text and figure (`threshold_report`).
"""
