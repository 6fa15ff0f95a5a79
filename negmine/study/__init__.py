"""The study: which properties of negatives make a retriever better (issue 13). :mod:`negmine.study.statistics`
holds its statistics; the runner comes next."""
