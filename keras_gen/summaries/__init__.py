"""Business intelligence, notebook 10: tables of numbers and their summaries.

- ``tables``: small sales tables and summaries written from them.
- ``factcheck``: a generated summary checked against its table, fact by fact.
"""
