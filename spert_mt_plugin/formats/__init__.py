"""
The file formats of the package: SpERT JSON, DyGIE jsonl, brat standoff, doccano JSONL and Label
Studio JSON, read into `Sentence`s and validated (`sentence`), converted between through SpERT
documents (`spert_documents`, the hub; each conversion stands with its format), and the types file.
Below the dataset readers, which turn sentences into instances: nothing here imports them.
"""
