# %% [markdown]
# ## 1. Customer service: a help desk for Python users
#
# > "Customer Service: Enhances user experiences through efficient and
# > responsive chatbots."
# > - *Gen AI vs LLM*
#
# A support chatbot has two jobs: find what the company's documents say about the
# customer's question, and answer in a conversation. Real systems split them the
# same way. **Retrieval-augmented generation** (RAG; Lewis et al., 2020,
# "Retrieval-Augmented Generation for Knowledge-Intensive NLP Tasks", NeurIPS)
# retrieves passages first and lets the language model write its answer with
# the passage in its prompt, so the answer can be checked against a source
# instead of coming from the model's memory alone.
#
# Our documents are Python's own help text: CPython's `pydoc_data` topics, cut
# into titled sections (`keras_gen.helpdesk`). Our customers are 238 questions
# written for this project (`data/helpdesk/questions.tsv`), each labelled with
# the section that answers it. Some name the keyword ("what does the break
# statement do"), some paraphrase it, some name no keyword at all ("how do I
# stop a loop early"), some have typos. The model never trains on them.
#
# The plan:
# 1. **Retrieval**: which section answers the question? TF-IDF against the GPT's body.
# 2. **A chat format**: turns with role markers, as plain text the GPT can read.
# 3. **Fine-tuning** the GPT to reply by quoting the passage in its prompt.
# 4. **Measured** on the held-out questions: does the reply quote the passage,
#    and is it the right passage?

# %%
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's C++ log lines

import time
from collections import Counter

import matplotlib.pyplot as plt
import numpy as np

from keras_gen import finetune as ft
from keras_gen.chat import format_chat, is_quote, parse_reply, truncate_words
from keras_gen.env import fast_mode, pick
from keras_gen.helpdesk import (
    canonical_ids,
    load_help_sections,
    load_questions,
    unique_sections,
)
from keras_gen.helpdesk_chat import (
    CHAT_MODEL_DIR,
    CONTEXT_CHARS,
    REPLY_CHARS,
    HelpDesk,
    best_sentence,
    evaluate_helpdesk,
    training_pairs,
)
from keras_gen.pretrained import load_pretrained
from keras_gen.retrieval import (
    GPTEncoder,
    HelpIndex,
    TfidfEncoder,
    evaluate_retrieval,
    top_k_accuracy,
    untrained_copy,
)

SEED = 0
GPT_CHARS = pick(full=256, fast=32)  # characters of each text the GPT body reads
QUESTIONS = pick(full=None, fast=12)  # held-out questions scored (None: all)
LIVE_STEPS = pick(full=30, fast=1)  # fine-tuning steps run live
LIVE_BATCH = pick(full=16, fast=2)
print(f"fast mode: {fast_mode()}")

# %%
# NBVAL_CHECK_OUTPUT
sections = unique_sections()
all_questions = load_questions()
kinds = Counter(q.kind for q in all_questions)
print(f"{len(load_help_sections())} help sections, {len(sections)} with a text "
      "of their own (copies removed)")
print(f"{len(all_questions)} held-out questions: "
      + ", ".join(f"{kind} {n}" for kind, n in kinds.items()))
for q in all_questions[:4]:
    print(f"  {q.question!r:62} -> {q.topic_id}  ({q.kind})")

# %% [markdown]
# ### Step 1: retrieval. Which section answers the question?
#
# A retriever turns the question and every section into vectors and returns the
# section whose vector is closest (cosine similarity). Three encoders
# (`keras_gen.retrieval`):
#
# - **TF-IDF**, the classic baseline: counts of character 3-to-5-grams inside
#   words, weighted by how rare they are among the sections. No training.
# - **The shipped GPT's body**: the mean of its hidden states over every
#   character of the text (the first `GPT_CHARS` characters).
# - **The same body, untrained** (random weights): what the architecture gives
#   before pretraining.
#
# A fourth row combines TF-IDF and the shipped body: each question's similarities
# from each encoder are standardised (mean 0, standard deviation 1 over the
# sections) and added with equal weights. The rule is fixed in advance, not tuned
# on these questions. *Top-1* is the share of questions whose first answer is
# right; *top-3*, right among the first three.

# %%
questions = all_questions[:QUESTIONS]
texts = [q.question for q in questions]
canonical = canonical_ids(load_help_sections())
answer_sets = [{canonical.get(i, i) for i in q.answer_ids} for q in questions]
base = load_pretrained()
start = time.perf_counter()
indexes = {
    "TF-IDF, char 3-5-grams": HelpIndex(sections, TfidfEncoder()),
    "shipped GPT body": HelpIndex(
        sections, GPTEncoder(base.model, base.tokenizer, max_chars=GPT_CHARS)),
    "untrained GPT body": HelpIndex(
        sections, GPTEncoder(untrained_copy(base.model, seed=SEED), base.tokenizer,
                             max_chars=GPT_CHARS)),
}
retrieval = {name: evaluate_retrieval(index, questions)
             for name, index in indexes.items()}


def standardised(scores):
    return (scores - scores.mean(1, keepdims=True)) / scores.std(1, keepdims=True)


combined = (standardised(indexes["TF-IDF, char 3-5-grams"].scores(texts))
            + standardised(indexes["shipped GPT body"].scores(texts)))
ids = indexes["TF-IDF, char 3-5-grams"].ids
ranked = [[ids[j] for j in row] for row in np.argsort(-combined, 1, kind="stable")]
retrieval["TF-IDF + shipped body"] = {
    f"top{k}": top_k_accuracy(ranked, answer_sets, k) for k in (1, 3)}
retrieval["chance"] = {f"top{k}": k / len(sections) for k in (1, 3)}
print(f"{len(questions)} questions, {len(sections)} sections, "
      f"{time.perf_counter() - start:.0f} s\n")
print(f"{'retriever':26} {'top-1':>6} {'top-3':>6}")
for name, row in retrieval.items():
    print(f"{name:26} {row['top1']:>6.1%} {row['top3']:>6.1%}")

# %%
tfidf, body = retrieval["TF-IDF, char 3-5-grams"], retrieval["shipped GPT body"]
both = retrieval["TF-IDF + shipped body"]
print(f"TF-IDF is right first time on {tfidf['top1']:.1%} of the questions, the "
      f"shipped GPT's body on {body['top1']:.1%}.")
for k in (1, 3):
    gained = round((both[f"top{k}"] - tfidf[f"top{k}"]) * len(questions))
    print(f"Adding the body to TF-IDF: {gained:+d} of {len(questions)} questions "
          f"right at top-{k}.")

# %% [markdown]
# The table above is the first finding, and a baseline wins it: counting shared
# character n-grams beats the GPT's body by a wide margin, and adding the body's
# similarities to TF-IDF's does not help clearly (the two rows above say by how
# much, either way). Why is the body of a language model such a poor retriever?
# It was trained for one thing, predicting the next character, and nothing in
# that objective asks that two texts *meaning the same thing* get close vectors.
# Averaging its states over a text mostly measures style (Python reference
# prose, grammar rules, code), which every section shares. The untrained row
# shows what is left without pretraining: close to chance.
#
# **What real systems do.** Retrievers in production are encoders trained *for*
# retrieval: pairs of questions and the passages that answer them pull together,
# other passages push apart (Dense Passage Retrieval, Karpukhin et al., 2020;
# Sentence-BERT, Reimers and Gurevych, 2019). And word-counting retrieval is still
# a baseline they are measured against, and often combined with: BM25, a close
# cousin of TF-IDF, remains strong on many benchmarks (BEIR, Thakur et al., 2021).
# The help desk below retrieves with TF-IDF: the measurement chose it.
#
# ### Step 2: a chat format with role markers
#
# A chat model sees a conversation as one text. `keras_gen.chat.format_chat`
# writes each turn on its own line, starting with its role marker (`Passage:`,
# `User:`, `Assistant:`) and ending with a newline, the end-of-turn marker. The
# prompt ends with `Assistant:` so that the model writes the next turn, and
# `parse_reply` cuts its continuation at the first newline. Large chat models do
# the same with special tokens instead of words (for example ChatML's
# `<|im_start|>user ... <|im_end|>`); a character-level model has no special
# tokens, so the markers are spelled out.
#
# Everything must fit the 256-character context, the reply included: the passage
# is cut to its opening, and of the earlier turns only the latest that fit are
# kept.

# %%
turns = [
    {"role": "passage", "content": sections[0].text},
    {"role": "user", "content": "what is assert for"},
    {"role": "assistant", "content": "Assert statements are a convenient way "
     "to insert debugging assertions into a program"},
    {"role": "user", "content": "and what happens when it fails?"},
]
prompt = format_chat(turns, max_chars=CONTEXT_CHARS - REPLY_CHARS, passage_chars=100)
print(prompt)
print(f"\n({len(prompt)} characters; {REPLY_CHARS} left for the reply)")
print(repr(parse_reply(" An AssertionError is raised.\nUser: thanks\n")))

# %% [markdown]
# ### Step 3: fine-tuning the GPT to answer from the passage
#
# The shipped GPT continues Python's help text; it has never seen `User:` or
# `Assistant:`. We teach it with conversations made **from the help sections
# themselves**, never from the held-out questions
# (`keras_gen.helpdesk_chat.training_pairs`): a question from a few templates
# filled with the section's title ("how does the break statement work"), the
# section's opening as the passage (starting at its first, second or third
# sentence, so the model cannot memorise one reply per section), and as the reply
# the passage sentence that shares the most words with the question. Any
# template question that happens to equal a held-out question is dropped.
# `keras_gen.finetune.finetune_lm` trains on them with the loss counted on the
# reply only.

# %%
held_out_texts = [q.question for q in all_questions]
pairs = training_pairs(sections, exclude=held_out_texts, seed=SEED)
pairs = [(p, c) for p, c in pairs
         if len(base.tokenizer.encode(p + c)) <= CONTEXT_CHARS + 1]
print(f"{len(pairs)} training conversations; one of them:\n")
print(pairs[1][0] + pairs[1][1])

# %% [markdown]
# Fine-tuning long enough to learn this takes longer than a notebook should on a
# CPU, so the project ships the result, `data/pretrained/helpdesk-chat`, made by
# `tools/train_helpdesk_chat.py` with exactly these conversations and
# `finetune_lm`. Its card records the command and its loss curve. The cell below
# runs the first `LIVE_STEPS` steps of the same recipe live, to show the loss
# falling and what a step costs here.

# %%
x, y, w = ft.prompt_completion_arrays(base.tokenizer, pairs, CONTEXT_CHARS)
live = ft.copy_backbone(base.model)
start = time.perf_counter()
live_history = ft.finetune_lm(live, x, y, w, steps=LIVE_STEPS, batch_size=LIVE_BATCH,
                              learning_rate=5e-4, seed=SEED,
                              jit_compile=pick(full=True, fast=False),
                              log_every=pick(full=5, fast=1))
live_seconds = time.perf_counter() - start
chat_model = load_pretrained(CHAT_MODEL_DIR)
card = chat_model.card
every = card["train_loss_every"]
fig, ax = plt.subplots(figsize=(6, 3.2))
ax.plot(np.arange(1, len(card["train_loss_curve"]) + 1) * every,
        card["train_loss_curve"], "o-", label=f"shipped model ({card['steps']} steps)")
live_every = pick(full=5, fast=1)
ax.plot(np.arange(1, len(live_history.history["loss"]) + 1) * live_every,
        live_history.history["loss"], "s-", label="live run, this notebook")
ax.set(xlabel=f"fine-tuning step (batch {card['batch_size']}; live: {LIVE_BATCH})",
       ylabel="loss on reply characters (nats)",
       title="Learning to answer from the passage")
ax.legend()
fig.tight_layout()
plt.show()
print(f"live: {LIVE_STEPS} steps in {live_seconds:.0f} s (XLA compilation "
      "included); shipped model: "
      f"{card['steps']} steps in {card['train_seconds']:.0f} s by `{card['command']}`")

# %% [markdown]
# Each point is the mean loss per reply character over the steps before it: the
# shipped model's curve (from its card) and the live run's, the same recipe on a
# short schedule (its warm-up and decay squeezed into `LIVE_STEPS` steps). A
# loss that falls far below where it started means the model has learned where
# the reply comes from: the passage, a few lines above.
#
# ### Step 4: measured on the held-out questions
#
# Each held-out question is answered as the help desk answers it
# (`keras_gen.helpdesk_chat.HelpDesk`): TF-IDF retrieves the closest section, its
# opening goes into the prompt, the model replies greedily. We count:
#
# - **quote rate**: the share of replies that quote the passage in their prompt.
#   A reply *quotes* when its longest run of characters copied from the passage
#   covers at least 80% of the reply and is at least 20 characters long
#   (`keras_gen.chat.is_quote`);
# - **grounded**: the share of replies that quote the *right* section (retrieval
#   right and quoted), the help desk's real success rate.
#
# The same prompts go to the shipped GPT before fine-tuning, and to a one-line
# rule with no model at all: reply with the passage sentence that shares the
# most words with the question.

# %%
start = time.perf_counter()
tfidf_index = indexes["TF-IDF, char 3-5-grams"]  # one retriever for both desks
desks = {"pretrained, not fine-tuned": HelpDesk(base.model, base.tokenizer,
                                                index=tfidf_index),
         "fine-tuned (shipped)": HelpDesk(chat_model.model, chat_model.tokenizer,
                                          index=tfidf_index)}
results, answers = {}, {}
for name, desk in desks.items():
    results[name], answers[name] = evaluate_helpdesk(desk, questions)
tuned = answers["fine-tuned (shipped)"]
# The rule needs no model: the passage sentence sharing most words with the question.
rule = [truncate_words(best_sentence(a.question, a.passage), REPLY_CHARS)
        for a in tuned]
rule_quoted = [is_quote(r, a.passage) for r, a in zip(rule, tuned, strict=True)]
right = [canonical.get(a.section_id, a.section_id) in answers_ok
         for a, answers_ok in zip(tuned, answer_sets, strict=True)]
results["rule: best passage sentence"] = {
    "quote_rate": np.mean(rule_quoted),
    "grounded": np.mean([r and q for r, q in zip(right, rule_quoted, strict=True)]),
}
print(f"{len(questions)} held-out questions, {time.perf_counter() - start:.0f} s\n")
print(f"{'replies from':28} {'quote rate':>10} {'grounded':>9}")
for name, row in results.items():
    print(f"{name:28} {row['quote_rate']:>10.1%} {row['grounded']:>9.1%}")
print(f"\nretrieval right (TF-IDF top-1): {np.mean(right):.1%}; "
      "no reply can be grounded more often")

# %%
for name in desks:
    print(f"--- {name}")
    for answer in answers[name][:3]:
        print(f"User: {answer.question}\n  [{answer.section_id}] "
              f"Assistant: {answer.reply}")

# %% [markdown]
# The table above says what fine-tuning bought. Before it, the model has never
# seen this format: in our runs it ended the turn at once (the empty replies
# printed above), so nothing it said could quote anything. After it, the first
# column is the share of replies copied from the passage. The replies printed
# above show how the others fail: the model starts copying the passage and
# drifts after a few dozen characters (a small model's copy is fragile, and one
# wrong character sends greedy decoding elsewhere). The
# second column is lower, capped by retrieval: a faithful quote of the wrong
# section is still a wrong answer.
#
# The third row is a baseline, and it is a finding, not a failure: a rule that
# picks the passage sentence sharing the most words with the question quotes
# by construction, so its grounded share equals retrieval's top-1 (when the
# sentence is long enough to count). Our fine-tuned model
# learned to do, with 1.9 million parameters, roughly what that rule does in one
# line, plus the turn-taking. Its advantage over a rule would only show on what a
# rule cannot do (rephrasing, combining two sentences, following up), which
# needs a much larger model.
#
# ### A multi-turn exchange
#
# Three user turns. Each turn retrieves its own section (from the user's latest
# message) and the earlier turns stay in the prompt when they fit in the context;
# the cell prints the prompt that kept the most history, exactly as the model
# read it.

# %%
exchange = desks["fine-tuned (shipped)"].converse([
    "how do I stop a loop early",
    "and how do I skip just one iteration?",
    "what does the pass statement do",
])
for answer in exchange:
    print(f"User: {answer.question}\n  [retrieved: {answer.section_id}]\n"
          f"Assistant: {answer.reply}\n")
fullest = max(exchange, key=lambda answer: answer.prompt.count("\n"))
print(f"--- the prompt for {fullest.question!r}, as the model saw it:")
print(fullest.prompt)

# %% [markdown]
# Read the exchange for what a help desk needs: the right section (the retrieved
# id), and a reply taken from it. With only 256 characters of context, the
# passage and the newest question fill most of it: earlier turns survive only
# while they fit, which is why even the fullest prompt above may show no
# earlier turn at all. A help desk this small answers one question at a time.
# The follow-up question ("and how do I skip ...") is retrieved on its own words;
# real assistants rewrite a follow-up into a standalone question before
# retrieving.
#
# The same help desk runs from the command line: `keras-gen chat` (type
# questions, `quit` to end) or `keras-gen chat --once "how do I stop a loop
# early"`.
#
# **What this small model does and does not do.** It answers in turns, and in the
# share of replies the table's first column gives, with text copied from the section
# it was given: such a reply is grounded, and a reader can check it against the
# source. The other replies start from the passage and drift. It does not understand
# the question: it cannot say "that is not in the passage", it cannot rephrase for a
# beginner or combine two sections, and it quotes a wrong section as readily as a
# right one. Half the job is retrieval, and retrieval here is word counting.
#
# **What real systems do.** Customer-service assistants today are large
# instruction-tuned models (billions of parameters, fine-tuned on human-written
# dialogues and preferences, as in InstructGPT: Ouyang et al., 2022) with retrieval
# over the company's documents, trained retrievers, a context of thousands of
# tokens instead of 256 characters, and rules that hand the conversation to a
# person when needed. The pieces are the same as here: retrieve, put the passage
# in the prompt, generate with role markers, measure how often the answer is
# supported by the passage.
#
# **Exercise 10.1 (how much does the definition decide?).** The quote rate depends
# on two thresholds: the share of the reply covered by its longest copied run
# (80%) and that run's length (20 characters). Recompute the fine-tuned model's
# quote rate for coverages 0.5, 0.8, 1.0 and lengths 10, 20, 40
# (`answers["fine-tuned (shipped)"]`, each with `.reply` and `.passage`). Which
# threshold moves the number most, and why?
#
# **Exercise 10.2 (which questions fail?).** Split retrieval top-1 and the grounded
# share by kind of question (keyword, paraphrase, no keyword, typo). Where does
# the help desk fail most, and is it retrieval or the reply? (Solutions:
# `solutions/nb10_chat.py`.)
