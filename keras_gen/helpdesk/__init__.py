"""The help desk, notebook 10: Python's own help text answers learners' questions.

- ``sections``: Python's help text cut into titled sections, and the held-out
  questions.
- ``chat``: a chat format a character-level GPT can spell, and the quote-rate metric.
- ``desk``: the help-desk chatbot: retrieve a section, let the GPT quote it
  (``keras-gen chat``).
- ``pairs``: training and development queries for the retriever, from the
  sections only.
- ``encoder``: the GPT body as a sentence encoder (InfoNCE), its folder.
- ``retriever``: training it, and fusing it with TF-IDF.
"""
