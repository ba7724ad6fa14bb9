# %% [markdown]
# ## 2. Education: automated grading and a practice loop
# > "Education: Provides personalized learning experiences and automated grading."
# > - *Gen AI vs LLM*, Real-World Impact of Gen AI and LLM
#
# Two claims in one line. This part builds both on notebook 07's code task (a request
# in English such as `# the last 3 items of ages`, answered by one line of Python,
# `ages[-3:]`):
#
# 1. **Automated grading.** Learners' answers, right and wrong, are graded by the
#    fine-tuned GPT, and the grade is checked against the truth, which for code is
#    what the code *computes*: every answer is run on test inputs.
# 2. **Personalised practice.** A loop that keeps count of what a learner gets right
#    and picks the next exercise where they do worst.
#
# **What real systems do.** Programming courses grade code by running it, not by
# reading it: Project Jupyter's *nbgrader* runs instructor-written test cells in the
# learner's notebook, and Gradescope's programming autograder runs an instructor's
# test script on the submission inside a Docker container. Language models are used
# beside that, mostly to explain and to tutor: Khan Academy's *Khanmigo* and
# Duolingo's *Explain My Answer* (Duolingo Max) were both announced on GPT-4 in
# March 2023. Personalisation has a long research line called *knowledge tracing*:
# Corbett and Anderson's Bayesian Knowledge Tracing (1995) estimates, per skill, the
# chance that a learner has mastered it, and Piech et al.'s Deep Knowledge Tracing
# (NeurIPS 2015) replaces that model with a recurrent network. The learner model
# below is the simplest member of that family: success counts per skill.

# %%
import collections
import os
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import matplotlib.pyplot as plt
import numpy as np

from keras_gen import finetune as ft
from keras_gen import grader, practice
from keras_gen.env import fast_mode, pick
from keras_gen.pretrained import load_pretrained
from keras_gen.sandbox import evaluate_expression
from keras_gen.tasks import CODE_TEMPLATES

SEED = 0
# Answers: requests sampled for fine-tuning, calibration and test (split by variable).
GRADE_REQUESTS = pick(full=(400, 120, 300), fast=(24, 12, 16))
GRADE_LENGTH = 80          # longest request + answer + new line, in characters
LM_STEPS = pick(full=200, fast=2)       # grader (a): fine-tuning the language model
LM_LR = 1e-3
GREEDY_REQUESTS = pick(full=40, fast=4)  # held-out requests the model answers itself
CLF_STEPS = pick(full=150, fast=2)      # grader (b): fine-tuning the classifier
CLF_LR = 5e-4
BATCH = 16
JIT = pick(full=True, fast=False)       # XLA pays off only for longer runs
# Practice loop: simulated learners, each answering PRACTICE_ROUNDS exercises.
LEARNERS = pick(full=10, fast=2)
PRACTICE_ROUNDS = pick(full=60, fast=10)
print("fast mode:", fast_mode())

# %% [markdown]
# ### The answers and their ground truth
# `grader.make_grading_sets` takes notebook 07's requests and, for each one, makes
# the answers a grader must tell apart (`keras_gen.grading.make_answers`): the
# reference, a correct rewrite of it (`sorted(ages)[-1]` for `max(ages)`), and one
# realistic wrong answer of each kind a learner writes: **off by one** (`ages[-4:]`),
# **wrong operator** (`ages[3:]`, the minus forgotten), **wrong variable**
# (`sizes[-3:]`) and **wrong method** (`min` for `max`). Each answer is then
# labelled by *running* it on eight seeded test inputs beside the reference: an
# answer is correct when it computes the reference's value on every input, however
# it was made. A "wrong" mutation that happens to compute the same values is labelled
# correct.
#
# **Which requests are held out, and why.** The split is by *variable name*: four
# names (drawn with the seed) make the test requests, two more make a calibration
# set, and the other fourteen make the fine-tuning requests. Every template (sum,
# largest item, last `n` items, ...) is in all three sets, so the test asks the
# question a course needs answered: can the grader judge answers to a new exercise
# of a kind it was taught (`the sum of scores` when it saw `the sum of ages`)?
# Holding out whole templates instead would ask it to grade a kind of exercise it has
# never seen, and a random split would let every name be seen; Exercise 10.3 tries
# both. The held-out names never appear in the
# fine-tuning data, not even inside a wrong answer. Thresholds and the choice between
# variants are made on the calibration set, which no model is trained on: answers the
# model was fine-tuned on would look more certain than new ones.

# %%
start = time.perf_counter()
sets = grader.make_grading_sets(GRADE_REQUESTS, seed=SEED)
train_answers, cal_answers, test_answers = (
    sets["train"], sets["calibration"], sets["test"]
)
for name, answers in (("fine-tuning", train_answers), ("calibration", cal_answers),
                      ("test", test_answers)):
    labels = grader.labels_of(answers)
    print(f"{name:12s}: {len({a.prompt for a in answers}):4d} requests, "
          f"{len(answers):5d} answers, {labels.mean():.0%} correct; variables "
          f"{', '.join(sets['variables'][name if name != 'fine-tuning' else 'train'])}")
print(f"made and ran in {time.perf_counter() - start:.0f} s")

example = [a for a in test_answers if a.prompt == test_answers[0].prompt]
print(f"\nThe answers to {example[0].prompt.strip()!r}:")
for a in example:
    verdict = "correct" if a.correct else f"wrong ({a.reason[:48]}...)"
    print(f"  {a.kind:15s} {a.answer:32s} {verdict}")

# %% [markdown]
# The cell above prints how many answers each set holds and what share of them is
# correct, then every answer to one test request with its executed label. The share
# of correct answers matters below: a grader that calls every answer wrong is right
# that often without reading anything (the *majority-class baseline*).
#
# ### The restricted evaluator: what it does and does not protect against
# Running what a learner typed needs care. `keras_gen.sandbox.evaluate_expression`
# never calls `eval`: it parses the answer with `ast` and walks the tree itself.
#
# **It does:** refuse before running anything that is not one expression
# (statements, `import`, assignments), any syntax outside an allow-list (`lambda`,
# `:=`, f-strings), any name starting with `__` or on a deny-list (`eval`, `open`,
# `getattr`), and any attribute that is not an allowed method (so `xs.__class__` is
# refused); give names only the test inputs (deep-copied, so `xs.sort()` cannot
# change them) and a short list of builtins; check limits *while* running: CPU time
# (of the calling thread, so a busy machine does not change the verdict), one budget
# for every item created, and the size of `**`, `*` and `<<` *before* they run, so
# `10 ** 10 ** 10` stops at once.
#
# **It does not:** separate the answer from the grader's own process. It is a guard
# against honest mistakes and pasted code, not a security boundary against an
# attacker (CPython has a long record of escapes from in-process sandboxes); code
# from strangers belongs in a separate process with operating-system limits (a
# container, `resource.setrlimit`, seccomp) that is killed from outside, which is
# what the autograders above do. One builtin call runs to its end before the time is
# checked again, memory is bounded through the item count rather than measured, and
# bugs in CPython's own builtins are out of its reach. The cell below shows a few
# verdicts.

# %%
# NBVAL_CHECK_OUTPUT
for code in ("sorted(xs)[-3:]", "xs[20]", "__import__('os').system('ls')",
             "xs.__class__", "10 ** 10 ** 10", "[x for x in range(10 ** 9)]"):
    try:
        outcome = repr(evaluate_expression(code, {"xs": [3, 1, 4, 1, 5]}))
    except Exception as error:  # noqa: BLE001  (showing each kind of refusal)
        message = str(error)
        outcome = f"{type(error).__name__}: {message[:70]}{'...' * (len(message) > 70)}"
    print(f"{code:32s} -> {outcome}")

# %% [markdown]
# The first answer runs; `xs[20]` fails with the answer's own `IndexError` (graded
# wrong); the escape attempts are refused before running, and the two huge
# computations are stopped before they allocate anything.
#
# ### Grader (a): how likely the fine-tuned model finds the answer
# Fine-tune a copy of the shipped GPT on the *correct* fine-tuning answers, as
# notebook 07 did (loss on the answer only). The model then holds a belief about what
# a right answer to a request looks like, and its grade for any answer is
# `log p(answer + new line | request)`, computed in one forward pass
# (`ft.completion_token_log_probs`, no decoding). Three ways to read it: the **sum**
# over the answer's characters; the **mean per character**; or the **least likely
# character** (`min_token`). The sum punishes long answers (every character costs
# probability), so a correct but longer rewrite can score below a short wrong
# answer; the mean does not, but it dilutes one wrong character among many right
# ones. The wrong answers here are single slips (`+ 1`, `<` for `>`, another
# variable), so the least likely character is where a slip should show.

# %%
pretrained = load_pretrained()
model, tokenizer = pretrained.model, pretrained.tokenizer
correct_pairs = [(a.prompt, a.answer + "\n") for a in train_answers if a.correct]
x_lm, y_lm, w_lm = ft.prompt_completion_arrays(tokenizer, correct_pairs, GRADE_LENGTH)
lm_grader = ft.copy_backbone(model)
start = time.perf_counter()
ft.finetune_lm(lm_grader, x_lm, y_lm, w_lm, steps=LM_STEPS, batch_size=BATCH,
               learning_rate=LM_LR, seed=SEED, jit_compile=JIT)
lm_seconds = time.perf_counter() - start
print(f"fine-tuned on {len(correct_pairs)} correct answers: {LM_STEPS} steps of "
      f"{BATCH} in {lm_seconds:.0f} s ({lm_seconds / LM_STEPS:.2f} s/step, compile "
      "included)")
start = time.perf_counter()
lm_cal = grader.lm_scores(lm_grader, tokenizer, cal_answers, GRADE_LENGTH)
lm_test = grader.lm_scores(lm_grader, tokenizer, test_answers, GRADE_LENGTH)
print(f"scored {len(cal_answers) + len(test_answers)} answers in "
      f"{time.perf_counter() - start:.0f} s")
cal_labels, test_labels = grader.labels_of(cal_answers), grader.labels_of(test_answers)
for variant in lm_cal:
    print(f"  {variant:9s}: calibration ROC AUC "
          f"{grader.roc_auc(cal_labels, lm_cal[variant]):.3f}")
lm_variant = max(lm_cal, key=lambda v: grader.roc_auc(cal_labels, lm_cal[v]))
print(f"picked on calibration answers: {lm_variant}")

# What does the model itself answer to held-out requests?
asked = [a for a in test_answers if a.kind == "reference"][:GREEDY_REQUESTS]
written = ft.greedy_complete(lm_grader, tokenizer, [a.prompt for a in asked], 32)
train_names = set(sets["variables"]["train"])
borrowed = [any(name in answer.replace("(", " ").replace("[", " ").replace(".", " ")
                .split() for name in train_names) for answer in written]
print(f"\nits own greedy answers to {len(asked)} held-out requests: "
      f"{ft.exact_match(written, [a.reference for a in asked]):.0%} exactly the "
      f"reference, {np.mean(borrowed):.0%} use a fine-tuning variable name instead")
for a, answer in list(zip(asked, written, strict=True))[:4]:
    print(f"  {a.prompt.strip():36s} -> {answer:26s} (reference {a.reference})")

# %% [markdown]
# The cell above prints each variant's ROC AUC on the calibration answers and picks
# the best one (the test answers are not looked at). **ROC AUC** is the chance that
# a randomly drawn correct answer scores above a randomly drawn wrong one (ties count
# one half): 0.5 is guessing, 1.0 a perfect ranking. It does not depend on a
# threshold, which is why it is the measure to pick a score by.
#
# The last lines show what the fine-tuned model *writes* for held-out requests: how
# often its greedy answer is the reference, and how often it puts a variable name it
# was fine-tuned on where the request names a new one. A grader that reads
# log-probabilities can only rank answers as well as the model could write them: if
# it would answer `len(data)` to "the number of items in weights", it finds the
# wrong-variable answer `len(data)` likely and the right one unlikely. Copying a name
# it has never seen from the request is exactly what this small model, fine-tuned
# for a few hundred steps, has not learned (notebook 07's random split never asked it
# to: every name there was also in the fine-tuning pairs).
#
# ### Grader (b): a classification head that reads request and answer
# The other way to grade is to ask the question directly: the pretrained body reads
# `request + answer`, and a new Dense layer says correct or wrong
# (`ft.GPTClassifier`, notebook 07's classifier), fine-tuned on *all* the fine-tuning
# answers with their executed labels. It sees wrong answers in training; grader (a)
# never does.

# %%
keras.utils.set_random_seed(SEED)
classifier = ft.GPTClassifier(ft.copy_backbone(model), num_classes=2)
train_texts = ft.encode_texts(tokenizer, grader.answer_texts(train_answers),
                              GRADE_LENGTH)
start = time.perf_counter()
ft.finetune_classifier(classifier, train_texts, grader.labels_of(train_answers),
                       steps=CLF_STEPS, batch_size=BATCH, learning_rate=CLF_LR,
                       seed=SEED, jit_compile=JIT)
clf_seconds = time.perf_counter() - start
print(f"fine-tuned on {len(train_answers)} labelled answers: {CLF_STEPS} steps of "
      f"{BATCH} in {clf_seconds:.0f} s ({clf_seconds / CLF_STEPS:.2f} s/step, compile "
      "included)")
clf_cal = grader.classifier_scores(classifier, tokenizer, cal_answers, GRADE_LENGTH)
clf_test = grader.classifier_scores(classifier, tokenizer, test_answers, GRADE_LENGTH)
print(f"calibration ROC AUC {grader.roc_auc(cal_labels, clf_cal):.3f}")

# %% [markdown]
# ### Measured on the held-out requests, against baselines
# Three trivial graders set the floor: the **majority class** (every answer gets the
# grade most answers in the calibration set have; its AUC is 0.5 by construction),
# **answer length** (longer answers score higher), and **matches the reference**
# (the answer is the reference, character for character: what a naive autograder
# that compares text would do; it calls every correct rewrite wrong). The last one
# is given the reference answer; the two model graders never see it when grading.
# For each grader the threshold is the one with the best accuracy on the
# calibration answers (`grader.best_threshold`), then accuracy and ROC AUC are
# measured on the test answers, whose requests no model was fine-tuned on.

# %%
def baseline_scores(answers):
    return {
        "answer length": np.array([len(a.answer) for a in answers], float),
        "matches the reference": np.array(
            [a.answer.strip() == a.reference.strip() for a in answers], float),
    }


majority = float(cal_labels.mean() >= 0.5)
graders = {
    f"(a) LM log-prob, {lm_variant}": (lm_cal[lm_variant], lm_test[lm_variant]),
    "(b) classification head": (clf_cal, clf_test),
    "majority class": (np.full(len(cal_labels), majority),
                       np.full(len(test_labels), majority)),
}
cal_base, test_base = baseline_scores(cal_answers), baseline_scores(test_answers)
graders.update({name: (cal_base[name], test_base[name]) for name in cal_base})
results = {}
print(f"{'grader':30s} {'calib. AUC':>10s} {'test AUC':>9s} {'test accuracy':>14s}")
for name, (cal_scores, test_scores) in graders.items():
    threshold = grader.best_threshold(cal_labels, cal_scores)
    results[name] = {
        "cal_auc": grader.roc_auc(cal_labels, cal_scores),
        "auc": grader.roc_auc(test_labels, test_scores),
        "accuracy": grader.accuracy_at(test_labels, test_scores, threshold),
        "threshold": threshold,
    }
    r = results[name]
    print(f"{name:30s} {r['cal_auc']:10.3f} {r['auc']:9.3f} {r['accuracy']:14.3f}")
model_names = list(graders)[:2]
chosen = max(model_names, key=lambda n: results[n]["cal_auc"])
print(f"\nthe model's grade, picked on calibration AUC: {chosen}")
best_baseline = max(list(graders)[2:], key=lambda n: results[n]["accuracy"])
print(f"best baseline on test accuracy: {best_baseline} "
      f"({results[best_baseline]['accuracy']:.3f}); the picked grader: "
      f"{results[chosen]['accuracy']:.3f}")

# %% [markdown]
# The table above is the part's headline: for each grader, the calibration AUC it was
# picked by, and on the held-out requests the ROC AUC and the accuracy at the
# calibration threshold. The last lines name the grader picked by measurement and
# compare it with the best baseline; where a baseline wins, that is the finding.
# The **grading curve** below draws each grader's ROC curve on the test answers: the
# share of correct answers passed (true-positive rate) against the share of wrong
# answers passed (false-positive rate), as the threshold slides from strict to
# lenient. A curve hugging the top-left corner passes right answers without passing
# wrong ones; the diagonal is guessing.

# %%
fig, ax = plt.subplots(figsize=(5.5, 5))
for name, (_, test_scores) in graders.items():
    if name == "majority class":
        continue
    fpr, tpr, _ = grader.roc_curve(test_labels, test_scores)
    ax.plot(fpr, tpr, label=f"{name} (AUC {results[name]['auc']:.2f})",
            drawstyle="default", marker="." if len(fpr) < 5 else None)
ax.plot([0, 1], [0, 1], "k:", label="guessing / majority class (AUC 0.50)")
ax.set(title="The grading curve: ROC on held-out requests",
       xlabel="wrong answers passed (false-positive rate)",
       ylabel="correct answers passed (true-positive rate)", xlim=(0, 1), ylim=(0, 1))
ax.legend(fontsize=8, loc="lower right")
plt.show()

# %% [markdown]
# Which answers does the picked grader get wrong? The cell below gives its accuracy
# for each kind of answer on the test set, then a few graded answers: its score, its
# verdict at the calibration threshold, and the executed truth, mistakes included.
# Read the per-kind lines together: a threshold that calls nearly every answer wrong
# grades the wrong kinds well and the references and rewrites badly, and the
# accuracy in the table above is their mix.

# %%
chosen_scores = graders[chosen][1]
passed = chosen_scores >= results[chosen]["threshold"]
right = passed == test_labels.astype(bool)
by_kind = collections.defaultdict(list)
for answer, ok in zip(test_answers, right, strict=True):
    by_kind[answer.kind].append(ok)
print(f"{chosen}: share graded right, by kind of answer")
for kind, oks in by_kind.items():
    print(f"  {kind:15s} {np.mean(oks):.2f}  ({len(oks)} answers)")

rng = np.random.default_rng(SEED)
shown = list(rng.permutation(np.flatnonzero(right))[:4])
shown += list(rng.permutation(np.flatnonzero(~right))[:4])
print(f"\n{'request':36s} {'answer':28s} {'score':>7s}  grade    truth")
for i in shown:
    a = test_answers[i]
    print(f"{a.prompt.strip()[2:]:36.36s} {a.answer:28.28s} {chosen_scores[i]:7.3f}  "
          f"{'correct' if passed[i] else 'wrong  '}  "
          f"{'correct' if a.correct else 'wrong'}{'' if right[i] else '   <- mistake'}")

# %% [markdown]
# ### A personalised practice loop
# `keras_gen.practice` keeps a **learner model**: attempts and successes for each of
# the 20 request templates, and from them a chance of success per template,
# `(successes + 1) / (attempts + 2)` (one imagined success and one failure, so an
# unseen template starts at one half and one attempt moves it only part of the way).
# `practice.next_exercise` picks the next request from the template with the lowest
# chance, breaking ties with the seeded random generator, and one time in ten
# (`explore=0.1`) from a template drawn at random, so a template written off as
# mastered still comes back. Every answer is graded by *running* it, so the counts
# are true; a model's grade could stand in where no test inputs exist.
#
# To watch it work, simulate learners: each answers a template correctly with a
# probability (its *skill*), writes a realistic wrong answer otherwise, and learns:
# each attempt closes a tenth of the gap between its skill on that template and 1.
# They are strong on every template but one. The same learners also practise with
# exercises drawn at random, the baseline.

# %%
WEAK = [request for request, _ in CODE_TEMPLATES].index("the position of {n} in {v}")
skills = np.full(len(CODE_TEMPLATES), 0.85)
skills[WEAK] = 0.2
attempts = {"weakest": [], "random": []}
final_weak_skill = {"weakest": [], "random": []}
start = time.perf_counter()
for policy in attempts:
    for learner_seed in range(LEARNERS):
        learner = practice.SimulatedLearner(skills, learn_rate=0.1, seed=learner_seed)
        history, learner_model = practice.run_practice(
            learner, PRACTICE_ROUNDS, policy=policy, explore=0.1, seed=learner_seed)
        attempts[policy].append(learner_model.attempts)
        final_weak_skill[policy].append(learner.skills[WEAK])
print(f"{LEARNERS} simulated learners x {PRACTICE_ROUNDS} exercises per policy, "
      f"graded by execution in {time.perf_counter() - start:.0f} s")
for policy in attempts:
    share = np.mean([a[WEAK] / PRACTICE_ROUNDS for a in attempts[policy]])
    print(f"  {policy:8s}: {share:.0%} of exercises on the weak template; its skill "
          f"went from {skills[WEAK]:.2f} to {np.mean(final_weak_skill[policy]):.2f} "
          "on average")

fig, ax = plt.subplots(figsize=(9, 3))
width = 0.4
for k, policy in enumerate(attempts):
    ax.bar(np.arange(len(CODE_TEMPLATES)) + (k - 0.5) * width,
           np.mean(attempts[policy], axis=0), width, label=f"{policy} template")
ax.set_xticks(np.arange(len(CODE_TEMPLATES)))
ax.set_xticklabels([f"{i}*" if i == WEAK else str(i)
                    for i in range(len(CODE_TEMPLATES))])
ax.set(title="Exercises per template (mean over learners); * = the weak template",
       xlabel="request template (index into CODE_TEMPLATES)",
       ylabel="exercises per learner")
ax.legend()
plt.show()

# %% [markdown]
# The cell above prints, for each policy, the share of exercises that went to the
# weak template and how far the learners' skill on it rose; the bars show where the
# exercises went. Picking the weakest template concentrates practice on it until its
# estimate climbs past the others, then spreads out; random picking sends about one
# exercise in twenty there (one template of twenty). The simulated learners learn
# from every attempt by construction, so this shows where the loop sends the
# practice, not that real learners learn this way.
#
# ### What this small model does and does not do
# - **Does:** grade answers to new requests of the kinds it was taught, measured
#   against the truth made by running the code; the table and the grading curve
#   above say how well, beside trivial baselines. Grader (a) learned only from
#   correct answers, grader (b) from labelled right and wrong ones.
# - **Does not:** understand code. It scores how an answer *looks* next to the
#   answers it saw; it never runs anything. For code, running it is both cheaper and
#   exact, which is why the real autograders named above run tests, and why this
#   part uses execution as the ground truth. A model's grade earns its place where
#   there is nothing to run (an explanation in words, an essay), and there it must
#   be measured against human grades the same way it is measured here against
#   executed ones.
# - **Does not:** generalise beyond these one-line list expressions, or grade
#   anything longer than a line; the practice loop's learners are simulated, and
#   the learner model counts successes without modelling forgetting or links between
#   templates (what Bayesian and Deep Knowledge Tracing add).
#
# ### Exercises
# **Exercise 10.3 (which requests to hold out).** Grader (a) had to judge names it
# had never seen. Measure its test ROC AUC under two other splits: requests held out
# at random, as in notebook 07 (every name and template also appears in fine-tuning),
# and whole templates held out (a kind of request never seen). Which split flatters
# the grader, and which one matches how a course would use it?
#
# **Exercise 10.4 (how much to explore).** Run the practice loop with `explore` at
# 0.0, 0.1, 0.3 and 1.0 (1.0 is random practice). For each, report the share of
# exercises on the weak template and the learners' mean skill over all templates at
# the end. What does exploring cost, and when is it worth paying?
#
# Solutions: `solutions/nb10_grader.py` (`split_auc`, `explore_sweep`).
