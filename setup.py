from setuptools import find_packages, setup

# Runtime dependencies are pinned in requirements.in / constraints.txt and installed by
# scripts/setup_env.sh: allennlp 2.10.1 declares torch<1.13, which cannot be installed on Python 3.11,
# so allennlp is installed without its metadata pins and is not listed in install_requires here.
setup(
    name="spert-mt",
    version="0.1.0",
    description="SpERT.MT: span-based joint entity and relation extraction with multi-task heads, "
    "as an AllenNLP plugin",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    packages=find_packages(include=["spert_mt_plugin", "spert_mt_plugin.*"]),
    package_data={"spert_mt_plugin": ["service/static/*", "configs/*.libsonnet"]},
    python_requires=">=3.10",
    # `nlp.add_pipe("spert_mt", config={"archive": ...})` without importing the package first
    entry_points={"spacy_factories": ["spert_mt = spert_mt_plugin.spacy_component:make_spert_mt"]},
    license="MIT",
)
