"""
What `spert-experiments` keeps of its runs and makes of them: the runs' folders (`runs`), their test
predictions (`predictions`), the mean ± std tables (`tables`) and paired comparisons of two configs
with a significance test over the test sentences (`comparison`).
"""
