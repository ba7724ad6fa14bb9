"""Solutions to the exercises of notebook 07 (fine-tuning for specific tasks).

Run ``python -m solutions.nb07`` to print the answers this run observes, with
the model that ships with keras_gen (several minutes on a 2-core CPU: it
fine-tunes four code models and two classifiers).
"""

from __future__ import annotations

import numpy as np

from keras_gen import finetune as ft
from keras_gen import tasks


def code_task_accuracy(
    model,
    tokenizer,
    train_pairs,
    test_pairs,
    pretrained: bool = True,
    steps: int = 300,
    length: int = 72,
    max_new_tokens: int = 32,
    **finetune_kwargs,
) -> float:
    """Exercise 1: exact match on the code task, from pretrained or random weights.

    With ``pretrained=False`` the same architecture starts from random weights
    and sees the same pairs for the same steps. It must learn spelling, the
    request words and the code all from the task data, so with a budget this
    small it usually answers far fewer requests exactly.

    Returns:
        Exact match on ``test_pairs`` after fine-tuning a copy of ``model``.
    """
    coder = ft.copy_backbone(model, pretrained=pretrained)
    x, y, w = ft.prompt_completion_arrays(tokenizer, train_pairs, length)
    ft.finetune_lm(coder, x, y, w, steps=steps, **finetune_kwargs)
    answers = ft.greedy_complete(
        coder, tokenizer, [p for p, _ in test_pairs], max_new_tokens
    )
    return ft.exact_match(answers, [c for _, c in test_pairs])


def linear_probe(
    model,
    train_x,
    train_y,
    test_x,
    test_y,
    steps: int = 60,
    learning_rate: float = 3e-2,
    **train_kwargs,
) -> float:
    """Exercise 2: freeze the pretrained body and train only the Dense head.

    Only the head's few hundred weights move, so it takes a much larger
    learning rate than full fine-tuning. A frozen body cannot adapt its
    vectors to the task: on the shipped model with 512 examples and 60 steps
    the probe reached 0.525 test accuracy against 0.658 for full fine-tuning
    (chance is 0.25), as ``python -m solutions.nb07`` printed. Freezing makes
    each step cheaper, though: no gradients for the body.

    Returns:
        Test accuracy of the probe.
    """
    num_classes = int(max(np.max(train_y), np.max(test_y)) + 1)
    classifier = ft.GPTClassifier(ft.copy_backbone(model), num_classes)
    classifier.backbone.trainable = False  # only the head's weights change
    ft.finetune_classifier(
        classifier,
        train_x,
        train_y,
        steps=steps,
        learning_rate=learning_rate,
        **train_kwargs,
    )
    return float(np.mean(ft.predict_classes(classifier, test_x) == test_y))


def classify(classifier, tokenizer, sentences, class_names, length: int = 64):
    """Exercise 3: the predicted topic of each of your own sentences.

    Returns:
        A list of ``(sentence, topic, probability)``.
    """
    inputs = ft.encode_texts(tokenizer, list(sentences), length)
    logits = np.asarray(classifier.predict(inputs, verbose=0), "float64")
    probs = np.exp(logits - logits.max(-1, keepdims=True))
    probs /= probs.sum(-1, keepdims=True)
    best = probs.argmax(-1)
    return [
        (s, class_names[b], float(p[b]))
        for s, b, p in zip(sentences, best, probs, strict=True)
    ]


#: Exercise 3: one sentence per topic, written for this solution (not from
#: the standard library's docstrings).
OWN_SENTENCES = {
    "maths": "Compute the square root of a number and round it to two places.",
    "files": "Open the file in binary mode and write these bytes to the disk.",
    "network": "Send a request to the web server and read the response headers.",
    "concurrency": "Start a worker thread and wait until it releases the lock.",
}


def main(
    pretrained=None,
    code_steps: int = 200,
    code_test_size: int = 100,
    few_pairs: int = 100,
    clf_steps: int = 60,
    per_class: int = 128,
    test_per_class: int = 60,
    max_new_tokens: int = 32,
    jit_compile: bool = True,
) -> None:
    """Print each exercise's answer as this run observes it.

    The defaults are notebook 07's full-mode settings.

    Args:
        pretrained: A :class:`~keras_gen.pretrained.Pretrained` (default: the
            model that ships with keras_gen).
        code_steps: Fine-tuning steps of each code model.
        code_test_size: Held-out requests.
        few_pairs: Training pairs of exercise 1's small set.
        clf_steps: Fine-tuning steps of each classifier.
        per_class: Labelled training sentences per topic (128: notebook 07's
            512 examples).
        test_per_class: Test sentences per topic.
        max_new_tokens: Longest generated answer, in tokens.
        jit_compile: Compile the training steps with XLA.
    """
    if pretrained is None:
        from keras_gen.pretrained import load_pretrained

        pretrained = load_pretrained()
    model, tokenizer = pretrained.model, pretrained.tokenizer

    code_train, code_test = tasks.split_pairs(
        tasks.make_code_pairs(), code_test_size, seed=0
    )
    code = {
        "steps": code_steps,
        "batch_size": 16,
        "learning_rate": 1e-3,
        "jit_compile": jit_compile,
        "max_new_tokens": max_new_tokens,
    }
    print(
        f"1. exact match on {len(code_test)} held-out requests after "
        f"{code_steps} steps, with all {len(code_train)} pairs and with the "
        f"first {few_pairs}:"
    )
    accuracy = {}
    for start in ("pretrained", "scratch"):
        for name, pairs in (("all", code_train), ("few", code_train[:few_pairs])):
            accuracy[start, name] = code_task_accuracy(
                model,
                tokenizer,
                pairs,
                code_test,
                pretrained=start == "pretrained",
                **code,
            )
        drop = accuracy[start, "all"] - accuracy[start, "few"]
        print(
            f"   from {start:10}: {accuracy[start, 'all']:6.1%} with "
            f"{len(code_train)} pairs, {accuracy[start, 'few']:6.1%} with "
            f"{few_pairs} ({-100 * drop:+.1f} points)"
        )
    drops = {
        start: accuracy[start, "all"] - accuracy[start, "few"]
        for start in ("pretrained", "scratch")
    }
    if abs(drops["pretrained"] - drops["scratch"]) < 0.02:
        verdict = "both lose about the same."
    else:
        worse = max(drops, key=drops.get)
        verdict = f"the {worse} model suffers more" + (
            ": pretraining already taught spelling and the request words, "
            "so a few pairs are enough to learn the mapping."
            if worse == "scratch"
            else "."
        )
        few_pretrained = accuracy["pretrained", "few"]
        all_scratch = accuracy["scratch", "all"]
        if worse == "pretrained" and few_pretrained > all_scratch:
            verdict = (
                "the pretrained model loses more points, but only because the "
                "one from scratch had little to lose: with them the pretrained "
                f"model ({few_pretrained:.1%}) still beats the one from scratch "
                f"with all {len(code_train)} pairs ({all_scratch:.1%})."
            )
    print(f"   With {few_pairs} pairs {verdict}")

    texts, labels, class_names = tasks.load_docstring_topics()
    train_idx, test_idx = tasks.few_shot_split(
        labels, per_class, test_per_class, seed=0
    )
    train_x = ft.encode_texts(tokenizer, [texts[i] for i in train_idx], 64)
    test_x = ft.encode_texts(tokenizer, [texts[i] for i in test_idx], 64)
    train_y, test_y = labels[train_idx], labels[test_idx]
    clf = {"steps": clf_steps, "batch_size": 16, "jit_compile": jit_compile}
    probe = linear_probe(model, train_x, train_y, test_x, test_y, **clf)
    classifier = ft.GPTClassifier(ft.copy_backbone(model), len(class_names))
    ft.finetune_classifier(classifier, train_x, train_y, learning_rate=5e-4, **clf)
    full = float(np.mean(ft.predict_classes(classifier, test_x) == test_y))
    print(
        f"2. {len(train_idx)} examples, {clf_steps} steps: linear probe "
        f"{probe:.3f}, full fine-tuning {full:.3f} test accuracy "
        f"(chance {1 / len(class_names):.2f})"
    )
    if probe < full:
        verdict = (
            "the probe is worse: a frozen body cannot adapt its vectors to the "
            "topics, only the head's weights move"
        )
    else:
        verdict = (
            "the probe is as good or better: the pretrained vectors already "
            "separate the topics, and fewer weights overfit less"
        )
    print(f"   {verdict}; each of its steps is cheaper (no gradients for the body).")

    sentences = [OWN_SENTENCES[name] for name in class_names if name in OWN_SENTENCES]
    truth = [name for name in class_names if name in OWN_SENTENCES]
    results = classify(classifier, tokenizer, sentences, class_names)
    print("3. the fully fine-tuned classifier on sentences written for this:")
    right = 0
    for (sentence, topic, probability), true in zip(results, truth, strict=True):
        right += topic == true
        mark = "✓" if topic == true else "✗"
        print(f"   {mark} {topic:12} {probability:.2f} (true {true:11}) {sentence}")
    share = right / len(results)
    if share < full:
        comparison = (
            "fewer than on the test sentences: ours are not in the words of the "
            "library's docstrings it was fine-tuned on."
        )
    elif share > full:
        comparison = (
            f"more than on the test sentences, but {len(results)} sentences are "
            "a small sample: one more mistake changes the share by "
            f"{1 / len(results):.0%}."
        )
    else:
        comparison = "the same share as on the test sentences."
    print(
        f"   {right} of {len(results)} right, against {full:.0%} on the test "
        f"sentences: {comparison}"
    )


if __name__ == "__main__":
    main()
