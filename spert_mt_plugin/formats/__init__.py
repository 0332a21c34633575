"""
The file formats of the package: SpERT JSON, DyGIE jsonl and brat standoff, read into `Sentence`s
and validated (`sentence`), converted between (`conversions`), and the types file. Below the
dataset readers, which turn sentences into instances: nothing here imports them.
"""
