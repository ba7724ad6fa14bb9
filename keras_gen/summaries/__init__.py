"""Business intelligence, notebook 11: tables of numbers, questions and summaries.

- ``tables``: small sales tables and summaries written from them.
- ``factcheck``: a generated summary checked against its table, fact by fact.
- ``queries``: the analyst's query language and its restricted evaluator.
- ``questions``: plain-English questions with their queries; held-out splits.
- ``keywords``: the keyword-matching baseline.
- ``analyst``: the fine-tuned GPT writes a query, the query runs; fallback;
  summaries from executed queries.
- ``evaluation``: answers checked against the truth computed by code.
- ``tablefile``: sales tables as CSV files (``keras-gen ask --table``).
"""
